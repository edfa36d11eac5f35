import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { Config } from '../config';
import type { Logger } from '../util/logger';
import type { ResumePoint } from './download/types';
import { sanitizeFileName } from '../shared/file-names';
import { isS3Uri } from '../util/s3-uri';

/** What every activity factory receives from the worker. */
export interface ActivityDeps {
  config: Config;
  logger: Logger;
}

/**
 * `<EXPORT_DIR>/<workflowId>` (a local path, or an `s3://bucket/prefix/<workflowId>` URI when EXPORT_DIR is one);
 * the id is sanitised so it can never climb out of EXPORT_DIR.
 */
export function exportDirFor(config: Config, workflowId: string): string {
  const name = sanitizeFileName(workflowId, 'export');
  if (isS3Uri(config.exportDir)) return `${config.exportDir.replace(/\/+$/, '')}/${name}`;
  return path.join(config.exportDir, name);
}

/**
 * The resume point the previous attempt of this activity heartbeated, if any. A multi-range point counts when
 * any range has bytes, even while the first range has none yet (its `offset`, the gap-free prefix, is then 0).
 */
export function lastResumePoint(): ResumePoint | undefined {
  const details = Context.current().info.heartbeatDetails as ResumePoint | undefined;
  if (!details || typeof details.offset !== 'number') return undefined;
  if (details.offset > 0) return details;
  const ranges = Array.isArray(details.ranges) ? details.ranges : [];
  return ranges.some((r) => typeof r?.at === 'number' && typeof r.start === 'number' && r.at > r.start)
    ? details
    : undefined;
}

/** How often an activity heartbeats while it waits on a vendor (the SDK sends at most one per 0.8 x timeout). */
const KEEP_ALIVE_MS = 1000;
/**
 * How long a call runs before its first heartbeat: a status call that answers in milliseconds then costs no
 * heartbeat (each one that reaches the server is a billable action), while a slow call still heartbeats well
 * inside its heartbeat timeout (at most 40% of it), so a dead worker's call moves on and a cancellation reaches
 * a running call within seconds.
 */
export function firstHeartbeatAfterMs(heartbeatTimeoutMs: number | undefined): number {
  if (!heartbeatTimeoutMs) return QUIET_START_MS;
  return Math.min(QUIET_START_MS, Math.floor(heartbeatTimeoutMs * 0.4));
}
const QUIET_START_MS = 5000;

/**
 * Runs an activity body while heartbeating, so an activity that waits long for a vendor's first byte is not
 * mistaken for one on a dead worker (heartbeat timeout, then a second request), and a cancelled or timed-out
 * activity learns of it and aborts its call through `signal`. `details` is what each heartbeat carries (a
 * download's resume point): the latest value, so a keep-alive never erases progress. Heartbeats start only once
 * the body has run for firstHeartbeatAfterMs: a quick call sends none.
 */
export async function keepAlive<T>(
  body: (signal: AbortSignal) => Promise<T>,
  details: () => unknown = () => undefined,
): Promise<T> {
  const ctx = Context.current();
  let timer: NodeJS.Timeout | undefined;
  const beat = () => {
    ctx.heartbeat(details());
    timer = setTimeout(beat, KEEP_ALIVE_MS);
  };
  timer = setTimeout(beat, firstHeartbeatAfterMs(ctx.info.heartbeatTimeoutMs));
  try {
    return await body(ctx.cancellationSignal);
  } finally {
    clearTimeout(timer);
  }
}

/** The workflow this activity works for; exportflow's activities only ever run inside a workflow. */
export function currentWorkflowId(): string {
  const id = Context.current().info.workflowExecution?.workflowId;
  if (!id) throw new Error('exportflow activities must run inside a workflow');
  return id;
}

/** A logger bound to the current activity's workflow. */
export function activityLogger(deps: ActivityDeps, provider: string): Logger {
  const info = Context.current().info;
  return deps.logger.child({
    workflowId: info.workflowExecution?.workflowId,
    provider,
    activity: info.activityType,
    attempt: info.attempt,
  });
}
