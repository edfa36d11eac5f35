import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ExportManifest } from '../../src/shared/manifest';
import type { JobRunning } from '../../src/shared/job-poll';
import type { ProviderInput, SupportedProvider } from '../../src/shared/provider-specs';
import { exportHandle, startExport, type Harness } from './harness';

export type Outcome =
  | { kind: 'completed'; manifest: ExportManifest }
  | { kind: 'failed'; type: string | undefined; message: string }
  | { kind: 'cancelled' };

/** Awaits the result (letting the server skip time) and says how the export ended. */
export async function outcome(h: Harness, workflowId: string): Promise<Outcome> {
  try {
    return {
      kind: 'completed',
      manifest: await exportHandle(h, workflowId).result(),
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

/** Starts a provider's export and awaits its end, with the workers running. */
export function runToEnd<P extends SupportedProvider>(
  h: Harness,
  provider: P,
  workflowId: string,
  input: ProviderInput<P>,
): Promise<Outcome> {
  return h.run(async () => {
    await startExport(h, provider, workflowId, input);
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

/** A vendor job still running, as the status activities answer it. */
export const running = (status = 'processing'): JobRunning => ({ state: 'running', status, progress: null });
