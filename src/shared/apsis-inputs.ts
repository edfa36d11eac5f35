import { z } from 'zod';
import { SEGMENT_NAME, filterReferences, namedSegments, splitSegmentSpec } from './apsis-filter';
import { AccountSchema, CarryOverSchema, TimingSchema, noControlChars } from './inputs';

/**
 * APSIS One workflow inputs (see inputs.ts for the conventions): validated by the CLI, the typed client and the
 * workflows themselves. No secret belongs here.
 */
const discriminator = (what: string) =>
  z
    .string({ message: `expected a ${what} discriminator` })
    .trim()
    .min(1, `expected a non-empty ${what} discriminator`)
    .max(500, `a ${what} discriminator is at most 500 characters`)
    // Discriminators are identifiers such as com.apsis1.sections.main: nothing else belongs in one.
    // (Empty passes here: min(1) reports it.)
    .regex(
      /^(?:[A-Za-z0-9][A-Za-z0-9._:-]*)?$/,
      `a ${what} discriminator is letters, digits and . _ : - (e.g. com.apsis1.${what}s.main)`,
    );

export const APSIS_REPORT_FORMATS = ['csv', 'csv.gz', 'xlsx'] as const;

/** A poll URL is valid for one day after the report was requested. */
export const POLL_URL_VALIDITY_MS = 86_400_000;

/**
 * How long an older (v1) poll URL's 404 is read as "not ready yet" after the report was requested. APSIS says a
 * 404 there also means "no longer available or the ID provided is invalid", and the two cannot be told apart.
 * APSIS documents no time to readiness: six hours is taken as far longer than a report should need, yet short
 * enough that MAX_REMOTE_ATTEMPTS (3) requests fit the default 24 h EXPORTFLOW_MAX_WAIT. Past it, the report is
 * taken as gone and requested again.
 */
export const V1_NOT_FOUND_READY_WINDOW_MS = 6 * 3_600_000;

/** A requested report, carried across continue-as-new so a long poll never requests it twice. Not a secret. */
export const ApsisReportStateSchema = z
  .object({
    reportId: z.string().min(1),
    pollUrl: z.string().min(1),
    pollKind: z.enum(['v2', 'v1']),
    validUntil: z.string().min(1),
    /** ISO time the report was requested (absent in states recorded before it was kept). */
    requestedAt: z.string().min(1).optional(),
  })
  .strict();
export type ApsisReportState = z.infer<typeof ApsisReportStateSchema>;

/** `[<name>=]<discriminator>`: the name (used in `filter`) is a simple word; without one it is `s<position>`. */
const segmentSpec = z
  .string({ message: 'expected a segment discriminator, or <name>=<discriminator>' })
  .superRefine((spec, ctx) => {
    const { name, discriminator: d } = splitSegmentSpec(spec);
    if (name !== undefined && !SEGMENT_NAME.test(name)) {
      ctx.addIssue({
        code: 'custom',
        message:
          `the segment name "${name.slice(0, 40)}" must be a simple word: a letter, then letters, digits or _ ` +
          '(it is used inside the filter expression), as in vip=com.apsis1.segments.vip',
      });
    }
    const checked = discriminator('segment').safeParse(d);
    if (!checked.success) ctx.addIssue({ code: 'custom', message: checked.error.issues[0]!.message });
  });

export const ApsisSegmentInputSchema = z
  .object({
    section: discriminator('section'),
    segments: z
      .array(segmentSpec, { message: 'expected a list of segment discriminators' })
      .min(1, 'expected at least one segment discriminator')
      .max(100, 'at most 100 segments')
      .superRefine((list, ctx) => {
        const named = namedSegments(list);
        const discriminators = named.map((s) => s.discriminator);
        if (new Set(discriminators).size !== discriminators.length) {
          ctx.addIssue({ code: 'custom', message: 'a segment is listed twice' });
        }
        const seen = new Set<string>();
        for (const [i, { name }] of named.entries()) {
          if (seen.has(name)) {
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `the segment name "${name}" is used twice (unnamed segments are s1, s2, ... by position)`,
            });
          }
          seen.add(name);
        }
      }),
    filter: z
      .string()
      .trim()
      .min(1, 'expected a non-empty filter expression')
      .max(4096, 'a filter expression is at most 4096 characters')
      .refine(noControlChars, 'a filter expression must not contain control characters (NUL, newlines)')
      .optional(),
    attributes: z.array(discriminator('attribute')).max(1000, 'at most 1000 attributes').default([]),
    tags: z.array(discriminator('tag')).max(1000, 'at most 1000 tags').default([]),
    format: z.enum(APSIS_REPORT_FORMATS, { message: 'expected "csv", "csv.gz" or "xlsx"' }).default('csv'),
    account: AccountSchema,
    timing: TimingSchema.optional(),
    carryOver: CarryOverSchema.optional(),
    report: ApsisReportStateSchema.optional(),
  })
  .strict();
export type ApsisSegmentInput = z.input<typeof ApsisSegmentInputSchema>;
export type ApsisSegmentInputParsed = z.output<typeof ApsisSegmentInputSchema>;

/**
 * What is wrong with a filter expression over these segments' names, or undefined. Kept apart from the schema
 * that workflows re-validate with, because exports started before filters were over names carry filters that
 * would fail it (the workflow checks it for new runs only, behind a patch marker).
 */
export function filterNamesIssue(input: { segments: readonly string[]; filter?: string }): string | undefined {
  if (input.filter === undefined) return undefined;
  const names = namedSegments(input.segments).map((s) => s.name);
  let used: string[];
  try {
    used = filterReferences(input.filter);
  } catch (err) {
    return `not a valid filter expression: ${(err as Error).message}`;
  }
  const unknown = [...new Set(used.filter((n) => !names.includes(n)))];
  if (unknown.length === 0) return undefined;
  return (
    `refers to ${unknown.map((n) => `"${n}"`).join(', ')}, which ${unknown.length > 1 ? 'are' : 'is'} not a segment ` +
    `name; the names are ${names.join(', ')} (name a segment with --segment <name>=<discriminator>)`
  );
}

/** The input a new export is started with: the workflow's schema plus the filter-over-names check. */
export const ApsisSegmentStartSchema = ApsisSegmentInputSchema.superRefine((input, ctx) => {
  const issue = filterNamesIssue(input);
  if (issue) ctx.addIssue({ code: 'custom', path: ['filter'], message: issue });
});

export const ApsisProfileInputSchema = z
  .object({
    exportKey: z
      .string({ message: 'expected the profile export key' })
      .max(1000, 'an export key is at most 1000 characters')
      .refine((key) => key.trim() !== '', 'must not be empty')
      .refine(noControlChars, 'an export key must not contain control characters (NUL, newlines)')
      // Any other key is URL-encoded into the request path; "." and ".." would still be read as path steps.
      .refine((key) => key !== '.' && key !== '..', 'an export key cannot be "." or ".."'),
    section: discriminator('section').optional(),
    history: z.boolean({ message: 'expected true or false' }).default(false),
    typeDefinitions: z.boolean({ message: 'expected true or false' }).default(false),
    merged: z.boolean({ message: 'expected true or false' }).default(false),
    account: AccountSchema,
    timing: TimingSchema.optional(),
    carryOver: CarryOverSchema.optional(),
  })
  .strict();
export type ApsisProfileInput = z.input<typeof ApsisProfileInputSchema>;
export type ApsisProfileInputParsed = z.output<typeof ApsisProfileInputSchema>;
