import { z } from 'zod';

/**
 * Workflow inputs. They are the single source of truth for the CLI, the typed client and the workflows
 * themselves (which re-validate, since a service may start them with only @temporalio/client).
 * No secret belongs here: credentials live in the worker's environment.
 */

/** Timing knobs, filled by the starter from its environment; absent fields take the CONTRACT defaults. */
export const TimingSchema = z
  .object({
    pollInitialMs: z.number().int().min(100).max(86_400_000).optional(),
    pollMaxMs: z.number().int().min(100).max(86_400_000).optional(),
    maxWaitMs: z
      .number()
      .int()
      .min(1000)
      .max(30 * 86_400_000)
      .optional(),
    heartbeatTimeoutMs: z.number().int().min(1000).max(3_600_000).optional(),
    /** Status polls per workflow run before it continues as new, keeping each run's history small. */
    pollsPerRun: z.number().int().min(1).max(2_000).optional(),
  })
  .strict();
export type Timing = z.infer<typeof TimingSchema>;

export const DEFAULT_TIMING = {
  pollInitialMs: 5_000,
  pollMaxMs: 300_000,
  maxWaitMs: 86_400_000,
  heartbeatTimeoutMs: 30_000,
  pollsPerRun: 500,
} as const satisfies Required<Timing>;

export function resolveTiming(timing: Timing | undefined): Required<Timing> {
  const t = { ...DEFAULT_TIMING, ...(timing ?? {}) };
  return { ...t, pollMaxMs: Math.max(t.pollMaxMs, t.pollInitialMs) };
}

/** State carried across continue-as-new so a long export never creates its vendor job twice. */
export const CarryOverSchema = z
  .object({
    remoteId: z.string().nullable(),
    attempts: z.number().int().min(0),
    startedAt: z.string(),
    polls: z.number().int().min(0),
  })
  .strict();
export type CarryOver = z.infer<typeof CarryOverSchema>;

const common = {
  timing: TimingSchema.optional(),
  carryOver: CarryOverSchema.optional(),
};

const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const AltcraftInputSchema = z
  .object({
    sourceType: z.enum(['database', 'segment'], { message: 'expected "database" or "segment"' }),
    sourceId: z
      .number({ message: 'expected a positive integer' })
      .int('expected a positive integer')
      .positive('expected a positive integer')
      .max(2 ** 31 - 1, 'expected an integer below 2^31'),
    format: z.literal('csv', { message: 'expected "csv" (the only format Altcraft exports)' }).default('csv'),
    filter: z
      .record(z.string().min(1).max(200), jsonScalar, { message: 'expected a JSON object of field: value' })
      .refine((f) => Object.keys(f).length <= 100, 'at most 100 fields')
      .optional(),
    ...common,
  })
  .strict();
export type AltcraftInput = z.input<typeof AltcraftInputSchema>;
export type AltcraftInputParsed = z.output<typeof AltcraftInputSchema>;

/** Formats a zod error as `field: message` lines, naming the field the user got wrong. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : 'input';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}
