/** APSIS One API paths, field names and status meanings (evidence: docs/vendors/apsis.md); a deployment that differs is a one-line change here. */
export const APSIS_PATHS = {
  token: '/oauth/token',
  segmentReport: '/audience/profiles/reports/segments',
  /** Followed by the URL-encoded export key. */
  exportSingle: '/audience/profiles/export-single/',
} as const;

/** Endpoint names used in messages and error details. */
export const APSIS_ENDPOINTS = {
  token: 'oauth/token',
  segmentReport: 'profiles/reports/segments',
  reportPoll: 'report poll URL',
  exportSingle: 'profiles/export-single',
  profileData: 'profile export data URL',
} as const;

/** Where the report answer may hold its poll URL, newest API version first; the first present wins. */
export const POLL_URL_FIELDS = ['file_download_url_v2', 'file_download_url', 'poll_url'] as const;
export type PollUrlField = (typeof POLL_URL_FIELDS)[number];

/** The two poll-URL dialects: `_v2` URLs say 202 while not ready and 404 for an invalid id; older ones say 404. */
export type PollUrlKind = 'v2' | 'v1';
export const POLL_URL_KIND: Record<PollUrlField, PollUrlKind> = {
  file_download_url_v2: 'v2',
  file_download_url: 'v1',
  poll_url: 'v1',
};

export const POLL_STATUS = {
  /** "Not ready yet", per dialect. */
  notReady: { v2: [202], v1: [404] } as Record<PollUrlKind, readonly number[]>,
  /** `_v2` only: the id is invalid (final). */
  invalidV2: 404,
  /** File gone, expired or id invalid: request a new report. */
  gone: 410,
  /** Processing failed on APSIS's side: request a new report. */
  failed: 503,
} as const;

// The poll URL's validity and an older URL's readiness window are read by the workflow too: kept in shared/.
export { POLL_URL_VALIDITY_MS, V1_NOT_FOUND_READY_WINDOW_MS } from '../../shared/apsis-inputs';

export const CSV_CONTENT_TYPE = 'text/csv';
export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Report file formats and how each is asked for on the poll URL. */
export const REPORT_FORMATS = {
  csv: { extension: '.csv', headers: {} as Record<string, string>, countRows: true },
  'csv.gz': { extension: '.csv.gz', headers: { 'accept-encoding': 'gzip' } as Record<string, string>, countRows: true },
  xlsx: { extension: '.xlsx', headers: { accept: XLSX_CONTENT_TYPE } as Record<string, string>, countRows: false },
} as const;
export type ReportFormat = keyof typeof REPORT_FORMATS;

/** Callback codes of the single-profile export. */
export const CALLBACK_CODES = { verified: 100, ready: 200 } as const;

/** Refresh a token this long before it expires: a tenth of its lifetime, at most five minutes. */
export function tokenRefreshMarginMs(expiresInSec: number): number {
  return Math.min(300_000, expiresInSec * 100);
}

/**
 * Token lifetime when neither the JWT's `exp` nor `expires_in` gives one (an opaque token without the
 * deprecated field): 15 minutes. Short, because using a token past its real expiry costs a 401 and a refresh on
 * every activity that holds it; not shorter, because the token endpoint allows about 10 requests a minute per
 * client and one worker then asks at most 4 times an hour. A 401/403 still replaces a token early.
 */
export const TOKEN_DEFAULT_LIFETIME_SEC = 900;

/** APSIS tokens are "valid for up to 24 hours"; an `exp` further out than this (plus clock slack) is not believed. */
export const TOKEN_MAX_LIFETIME_SEC = 25 * 3600;

/** API answers after which a new token is fetched once: APSIS's own PrestaShop module does so on 401 and 403. */
export const TOKEN_REFUSED_STATUSES: readonly number[] = [401, 403];
