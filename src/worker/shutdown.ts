import type { WorkerOptions } from '@temporalio/worker';

/**
 * Graceful shutdown of a worker (SIGTERM from Docker/Kubernetes, Ctrl-C).
 *
 * No vendor takes an idempotency key, so a create call cut by our own shutdown and retried on the next worker
 * leaves a second vendor job. When a stop begins:
 * - the worker stops polling; activities in flight run on for up to EXPORTFLOW_SHUTDOWN_GRACE (the SDK's
 *   `shutdownGraceTime`; its default 0 would cancel them the moment shutdown starts, reason WORKER_SHUTDOWN);
 * - vendor calls (create, status, get-URL) simply finish: each is bounded by its 2 min start-to-close timeout, and
 *   the default grace (150 s) is longer, so a call that began just before the signal still ends here;
 * - downloads are the exception: they can resume, and may run for hours, so they stop at once (`workerDraining`, in
 *   src/activities/draining.ts),
 *   with their resume point (offset, ranges, ETag) in the failure's last heartbeat details, and fail retryably
 *   with type `WorkerShutdown`; the next attempt, on another worker, continues with `Range` from that offset;
 * - after the grace the SDK cancels what still runs (reported as a retryable failure), and `shutdownForceTime`
 *   (grace + SHUTDOWN_FORCE_EXTRA_MS) bounds the whole stop: past it the worker gives up waiting
 *   (GracefulShutdownPeriodExpiredError) and the process exits non-zero rather than hang until SIGKILL.
 * Container stop timeouts must exceed grace + force extra: docker-compose.yml's `stop_grace_period: 3m` and
 * Kubernetes `terminationGracePeriodSeconds: 180` match the 150 s default.
 */

/** Time past the grace for the SDK to cancel leftovers and report them, before it stops waiting. */
export const SHUTDOWN_FORCE_EXTRA_MS = 15_000;

/** The SDK options that make shutdown graceful. */
export function shutdownOptions(graceMs: number): Pick<WorkerOptions, 'shutdownGraceTime' | 'shutdownForceTime'> {
  return { shutdownGraceTime: graceMs, shutdownForceTime: graceMs + SHUTDOWN_FORCE_EXTRA_MS };
}
