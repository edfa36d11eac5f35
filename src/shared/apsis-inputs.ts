import { z } from 'zod';
import { CarryOverSchema, TimingSchema, noControlChars } from './inputs';

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

/** A requested report, carried across continue-as-new so a long poll never requests it twice. Not a secret. */
export const ApsisReportStateSchema = z
  .object({
    reportId: z.string().min(1),
    pollUrl: z.string().min(1),
    pollKind: z.enum(['v2', 'v1']),
    validUntil: z.string().min(1),
  })
  .strict();
export type ApsisReportState = z.infer<typeof ApsisReportStateSchema>;

export const ApsisSegmentInputSchema = z
  .object({
    section: discriminator('section'),
    segments: z
      .array(discriminator('segment'), { message: 'expected a list of segment discriminators' })
      .min(1, 'expected at least one segment discriminator')
      .max(100, 'at most 100 segments')
      .refine((list) => new Set(list).size === list.length, 'a segment is listed twice'),
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
    timing: TimingSchema.optional(),
    carryOver: CarryOverSchema.optional(),
    report: ApsisReportStateSchema.optional(),
  })
  .strict();
export type ApsisSegmentInput = z.input<typeof ApsisSegmentInputSchema>;
export type ApsisSegmentInputParsed = z.output<typeof ApsisSegmentInputSchema>;

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
    timing: TimingSchema.optional(),
    carryOver: CarryOverSchema.optional(),
  })
  .strict();
export type ApsisProfileInput = z.input<typeof ApsisProfileInputSchema>;
export type ApsisProfileInputParsed = z.output<typeof ApsisProfileInputSchema>;
