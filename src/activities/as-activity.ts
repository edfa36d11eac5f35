import { ApplicationFailure, Context } from '@temporalio/activity';
import { ClassifiedError } from '../providers/errors';
import { keepAlive } from './context';

/** Turns a ClassifiedError into the ApplicationFailure Temporal retries (or not) by its type. */
export function toFailure(err: unknown): unknown {
  if (!(err instanceof ClassifiedError)) return err;
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: !err.retryable,
    nextRetryDelay: err.details.retryAfterMs,
    details: [
      {
        vendor: err.details.vendor ?? null,
        endpoint: err.details.endpoint ?? null,
        status: err.details.status ?? null,
        ...(err.details.resetAt !== undefined ? { resetAt: err.details.resetAt } : {}),
      },
    ],
  });
}

/**
 * Runs an activity body, translating vendor errors on the way out. An activity whose cancellation was requested
 * ends as cancelled, whatever its aborted call threw: reported as a failure it would turn the cancelled export
 * into a failed one, and the workflow would not know the activity stopped.
 */
export async function asActivity<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const ctx = Context.current();
    const reason: unknown = ctx.cancellationSignal.reason;
    if (ctx.cancellationDetails?.cancelRequested && ctx.cancellationSignal.aborted && reason instanceof Error) {
      throw reason;
    }
    throw toFailure(err);
  }
}

/**
 * One vendor API call as an activity: heartbeats while it waits (so a slow vendor is not taken for a dead worker,
 * and a crashed worker's call is retried after the heartbeat timeout instead of the start-to-close one) and
 * aborts the call when the activity is cancelled.
 */
export function asVendorCall<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return asActivity(() => keepAlive(body));
}
