import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { z } from 'zod';
import { describeIssues, protoKeyPath } from '../shared/inputs';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';

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

/** Validates workflow input; bad input fails the workflow at once with the field named. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const proto = protoKeyPath(input);
  if (proto) {
    throw finalFailure(FAILURE_TYPES.invalidInput, `${proto}: "__proto__" is not accepted as a field name`);
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw finalFailure(FAILURE_TYPES.invalidInput, describeIssues(parsed.error));
  }
  return parsed.data;
}

/** The message a user should see for a failure: the vendor's words, not the wrapper's. */
export function userMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
