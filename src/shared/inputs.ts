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
  // A status poll costs about 11 history events (13 in the last hour before the deadline): 120 polls keep a
  // run near 1,600 events, under the 2,000 the README promises; a 24 h wait takes three runs.
  pollsPerRun: 120,
} as const satisfies Required<Timing>;

/** The pollsPerRun default of v0.1.0; runs it started must keep it on replay (see src/workflows/continue-as-new.ts pollsPerRunOf). */
export const LEGACY_POLLS_PER_RUN = 500;

/** Timing with every field filled, and whether pollsPerRun came from the default rather than the input. */
export type ResolvedTiming = Required<Timing> & { pollsPerRunDefaulted?: boolean };

export function resolveTiming(timing: Timing | undefined): ResolvedTiming {
  const t = { ...DEFAULT_TIMING, ...(timing ?? {}) };
  return {
    ...t,
    pollMaxMs: Math.max(t.pollMaxMs, t.pollInitialMs),
    pollsPerRunDefaulted: timing?.pollsPerRun === undefined,
  };
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

/** The account whose credentials are the worker's plain variables (ALTCRAFT_TOKEN, ...). */
export const DEFAULT_ACCOUNT = 'default';

/**
 * Which of the vendor's accounts an export uses (docs/accounts-and-quotas.md): a name only, never a
 * credential. Case does not matter (`EU` and `eu` are one account, whose variables end in `__EU`); absent, as in
 * every history recorded before accounts existed, it is `default`.
 */
export const AccountSchema = z
  .string({ message: 'expected an account name' })
  .regex(/^[A-Za-z0-9_]{1,64}$/, 'expected an account name of letters, digits and _ (at most 64), e.g. eu')
  .transform((name) => name.toLowerCase())
  .default(DEFAULT_ACCOUNT);

const common = {
  account: AccountSchema,
  timing: TimingSchema.optional(),
  carryOver: CarryOverSchema.optional(),
};

/**
 * Control characters (NUL, newlines, escapes) and invisible format characters (bidi overrides, zero-width):
 * never part of an id, a name or a filter a person typed, and a classic way to smuggle something past a reader.
 */
export const CONTROL_CHARS = /[\p{Cc}\p{Cf}]/u;
export const noControlChars = (text: string): boolean => !CONTROL_CHARS.test(text);

/** A filter value: sent to Altcraft as a JSON value (never spliced into a query), so only its size and characters matter. */
const filterValue = z.union(
  [
    z
      .string()
      .max(1000, 'a filter value is at most 1000 characters')
      .refine(noControlChars, 'a filter value must not contain control characters'),
    z.number(),
    z.boolean(),
    z.null(),
  ],
  { error: 'expected a string, number, true/false or null' },
);
/** Profile field names: letters, digits, `_ . -` (Altcraft's own fields start with `_`); never `__proto__` and kin. */
const filterField = z.string().regex(/^(?!(?:__proto__|constructor|prototype)$)[A-Za-z_][A-Za-z0-9_.-]{0,199}$/);

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
      .record(filterField, filterValue, {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? 'field names are letters, digits and _ . - (at most 200, starting with a letter or _)'
            : 'expected a JSON object of field: value',
      })
      .refine((f) => Object.keys(f).length <= 100, 'at most 100 fields')
      .optional(),
    /** Fail as RowCountMismatch when the rows stored differ from Altcraft's own `result.total`. */
    requireTotal: z.boolean({ message: 'expected true or false' }).optional(),
    ...common,
  })
  .strict();
export type AltcraftInput = z.input<typeof AltcraftInputSchema>;
export type AltcraftInputParsed = z.output<typeof AltcraftInputSchema>;

const positiveId = z
  .number({ message: 'expected a positive integer' })
  .int('expected a positive integer')
  .positive('expected a positive integer')
  .max(Number.MAX_SAFE_INTEGER, 'expected a smaller integer');

/** myTracker: export a segment (the export is created) or take over an existing export by id; exactly one. */
export const MyTrackerInputSchema = z
  .object({
    segmentId: positiveId.optional(),
    fields: z
      .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_.]{0,99}$/, 'expected field names of letters, digits and _'))
      .min(1, 'expected at least one field name')
      .max(100, 'at most 100 fields')
      .optional(),
    exportId: z
      .union([z.string().regex(/^[1-9]\d{0,17}$/, 'expected a positive integer'), positiveId])
      .transform(String)
      .optional(),
    ...common,
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.segmentId !== undefined && input.exportId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['exportId'], message: 'give either segmentId or exportId, not both' });
    } else if (input.segmentId === undefined && input.exportId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['segmentId'],
        message: 'required, unless exportId names an existing export',
      });
    } else if (input.exportId !== undefined && input.fields !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['fields'],
        message: 'only applies when the export is created (segmentId)',
      });
    }
  });
export type MyTrackerInput = z.input<typeof MyTrackerInputSchema>;
export type MyTrackerInputParsed = z.output<typeof MyTrackerInputSchema>;

/** Formats a zod error as `field: message` lines, naming the field the user got wrong. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? formatPath(issue.path) : 'input';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/** `filter.city`, `segments.0`; a segment that is not a plain name is quoted: `filter["a; b"]`. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, i) => {
      const text = String(segment);
      if (typeof segment === 'number' || /^[A-Za-z0-9_]+$/.test(text)) return i === 0 ? text : `.${text}`;
      return `[${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}]`;
    })
    .join('');
}

/**
 * The path of a `__proto__` key anywhere in an input. JSON can carry one; zod drops it silently, so a filter
 * `{"__proto__": ...}` would become no filter at all (every profile exported) instead of an error.
 */
export function protoKeyPath(value: unknown, path = ''): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return path || 'input';
  for (const [key, inner] of Object.entries(value)) {
    const found = protoKeyPath(inner, path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}
