import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ExportManifest } from '../../src/shared/manifest';
import type { Harness } from './harness';

export type Outcome =
  | { kind: 'completed'; manifest: ExportManifest }
  | { kind: 'failed'; type: string | undefined; message: string }
  | { kind: 'cancelled' };

/** Starts a workflow on the harness's queue; time stands still until someone awaits its result. */
export async function start(h: Harness, workflowType: string, workflowId: string, input: object): Promise<void> {
  await h.env.client.workflow.start(workflowType, { taskQueue: h.taskQueue, workflowId, args: [input] });
}

/** Awaits the result (letting the server skip time) and says how the export ended. */
export async function outcome(h: Harness, workflowId: string): Promise<Outcome> {
  try {
    return {
      kind: 'completed',
      manifest: (await h.env.client.workflow.getHandle(workflowId).result()) as ExportManifest,
    };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    if (err.cause instanceof CancelledFailure) return { kind: 'cancelled' };
    const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
    if (cause instanceof ApplicationFailure)
      return { kind: 'failed', type: cause.type ?? undefined, message: cause.message };
    return { kind: 'failed', type: undefined, message: String(cause?.message ?? err.message) };
  }
}

/** Starts a workflow and awaits its end, with the workers running. */
export function runToEnd(h: Harness, workflowType: string, workflowId: string, input: object): Promise<Outcome> {
  return h.run(async () => {
    await start(h, workflowType, workflowId, input);
    return outcome(h, workflowId);
  });
}

/** Workflow-clock gaps between consecutive calls. */
export function gaps(calls: { at: number }[]): number[] {
  return calls.slice(1).map((c, i) => c.at - calls[i]!.at);
}

/** Waits (real time, bounded) until `check` holds; for tests that act on a workflow mid-flight. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const running = (status = 'processing') => ({ state: 'running', status, progress: null });
