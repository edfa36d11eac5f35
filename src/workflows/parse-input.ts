import type { z } from 'zod';
import { describeIssues, protoKeyPath } from '../shared/inputs';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';

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
