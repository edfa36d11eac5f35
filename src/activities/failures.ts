import { ApplicationFailure } from '@temporalio/activity';
import { VendorError } from '../providers/errors';

/** Turns a classified VendorError into the ApplicationFailure Temporal retries (or not) by its type. */
export function toFailure(err: unknown): unknown {
  if (!(err instanceof VendorError)) return err;
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
      },
    ],
  });
}

/** Runs an activity body, translating vendor errors on the way out. */
export async function asActivity<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw toFailure(err);
  }
}

/** A missing credential on the worker: final, and it says which variable to set. */
export function missingSetting(name: string, vendor: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'WorkerMisconfigured',
    message: `${name} is not set in the worker's environment, so the worker cannot call ${vendor}`,
    nonRetryable: true,
  });
}
