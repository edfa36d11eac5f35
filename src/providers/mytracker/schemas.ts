import { z } from 'zod';

/** Every myTracker answer: `{code, message, data}`; `code` repeats the HTTP status. */
export const MyTrackerEnvelope = z.object({
  code: z.number().int(),
  message: z.string().optional().default(''),
  data: z.unknown().optional(),
});

/** `data` of an error answer (404, 400): `{error: {detail}}`. */
export const MyTrackerErrorData = z.object({ error: z.object({ detail: z.string() }) });

export const MyTrackerCreateData = z.object({
  idSegmentExport: z.union([z.string().regex(/^\d+$/), z.number().int().positive()]).transform(String),
});

const unixSeconds = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(Number);

export const MyTrackerFileLink = z.object({
  link: z.string().min(1),
  timestampExpires: unixSeconds,
});

export const MyTrackerStatusData = z.object({
  idSegmentExport: z.union([z.string(), z.number()]).optional(),
  status: z.string().min(1),
  /** A string such as "64%" while in progress. */
  progress: z.union([z.string(), z.number()]).optional().nullable(),
  errorMessage: z.string().optional().nullable(),
  files: z.array(MyTrackerFileLink).optional().nullable(),
});
export type MyTrackerStatusData = z.input<typeof MyTrackerStatusData>;
