import { FAILURE_TYPES } from '../shared/failure-types';

/**
 * Whether this process's worker is shutting down. The worker sets it as a stop begins (src/worker/shutdown.ts
 * says what a graceful stop does); downloads watch it to stop at once with their resume point and resume on
 * another worker. Kept here, below the worker, because activities read it.
 */

/** The failure type a download throws when it stops for its worker's shutdown (retryable). */
export const WORKER_SHUTDOWN_FAILURE = FAILURE_TYPES.workerShutdown;

let drain = new AbortController();

/** Aborted once this process's worker begins to shut down; downloads watch it to stop early and resume elsewhere. */
export function workerDraining(): AbortSignal {
  return drain.signal;
}

/** Marks this process as shutting down (idempotent). */
export function beginDraining(): void {
  if (!drain.signal.aborted) drain.abort(new Error('the worker is shutting down'));
}

/** A worker starting after an earlier one in this process stopped (tests, `dev` restarts): not draining. */
export function resetDraining(): void {
  if (drain.signal.aborted) drain = new AbortController();
}
