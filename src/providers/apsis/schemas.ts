import { z } from 'zod';
import { POLL_URL_FIELDS } from './constants';

/**
 * `POST /oauth/token` answer. Never echoed into a message: it holds the access token. APSIS calls `expires_in`
 * deprecated ("provided for backwards compatibility"): the lifetime is the JWT's `exp` (see token.ts), so an
 * answer without `expires_in` is valid.
 */
export const ApsisTokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive().optional(),
  token_type: z.string().regex(/^bearer$/i, 'expected "Bearer"'),
});
export type ApsisTokenAnswer = z.infer<typeof ApsisTokenAnswer>;

/** The claims of an APSIS access token that exportflow reads: `exp`, in Unix seconds (RFC 7519 NumericDate). */
export const ApsisJwtClaims = z
  .object({ exp: z.number({ message: 'expected exp as a number of seconds' }).positive().finite() })
  .loose();

const pollUrl = z.string().min(1).max(4096);

/** Profiles-in-segment report answer: one of the poll-URL fields (newest first), plus optional facts. */
export const ApsisReportAnswer = z
  .object({
    id: z.union([z.string().min(1), z.number()]).optional(),
    expires_at: z.string().optional(),
    ...Object.fromEntries(POLL_URL_FIELDS.map((field) => [field, pollUrl.optional().nullable()])),
  })
  .refine((answer) => POLL_URL_FIELDS.some((field) => typeof (answer as Record<string, unknown>)[field] === 'string'), {
    message: `expected one of ${POLL_URL_FIELDS.join(', ')}`,
  });
export type ApsisReportAnswer = z.infer<typeof ApsisReportAnswer>;

/** The request body of a profiles-in-segment report. */
export interface ApsisReportRequest {
  section_discriminator: string;
  segments: { segment_discriminators: Record<string, string>; filter?: string };
  attributes?: string[];
  tags?: string[];
}

/** The request body of a single-profile export. */
export interface ApsisProfileExportRequest {
  callback_url: string;
  section_discriminator?: string;
  include_attribute_history?: boolean;
  include_type_definitions?: boolean;
  include_merged_profiles?: boolean;
}

/** What APSIS POSTs to a callback URL: code 100 (verified), 200 (message = data URL), anything else = failure. */
export const ApsisCallbackBody = z
  .object({
    code: z.number().int().min(0).max(999),
    message: z.string().max(8192),
  })
  .refine((body) => body.code !== 200 || /^https?:\/\/[^\s]+$/i.test(body.message), {
    message: 'a code 200 callback must carry the data URL (http or https) as its message',
    path: ['message'],
  });
export type ApsisCallbackBody = z.infer<typeof ApsisCallbackBody>;

/** The single-profile export file, checked loosely: profiles by export key, optional metadata. */
export const ApsisProfileDocument = z.object({
  profiles: z.record(z.string(), z.object({ sections: z.record(z.string(), z.unknown()) }).loose()),
  metadata: z
    .object({ sections: z.record(z.string(), z.unknown()) })
    .loose()
    .optional(),
});
