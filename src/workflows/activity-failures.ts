import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';

// How a workflow reads the failures of its activities.

/** The ApplicationFailure type behind an activity failure, e.g. `VendorJobGone`. */
export function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

/** True when the activity gave up on an error that another try later could fix (network, 5xx, timeouts). */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) return true;
  return cause instanceof ApplicationFailure && !cause.nonRetryable;
}

/** The message a user should see for a failure: the vendor's words, not the wrapper's. */
export function userMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
