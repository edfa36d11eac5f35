import { z } from 'zod';

/** Every Altcraft answer: `error` is non-zero on failure even with HTTP 200. */
export const AltcraftEnvelope = z.object({
  data: z.unknown().optional(),
  error: z.number().int(),
  error_text: z.string().optional().default(''),
});

export const AltcraftCreateData = z.object({ task_id: z.string().min(1) });

export const AltcraftTaskResult = z.object({
  errors: z.array(z.unknown()).optional().default([]),
  source_id: z.union([z.number(), z.string()]).optional(),
  total: z.number().int().min(0).optional(),
  type: z.string().optional(),
  urls: z.array(z.string().min(1)).optional().default([]),
});

export const AltcraftStatusData = z.object({
  status: z.string().min(1),
  progress: z.number().min(0).max(100).optional(),
  result: AltcraftTaskResult.optional().nullable(),
});
export type AltcraftStatusData = z.infer<typeof AltcraftStatusData>;

export interface AltcraftCreateRequest {
  source_type: 'database' | 'segment';
  source_id: number;
  file_format?: 'csv';
  custom_request?: Record<string, string | number | boolean | null>;
}
