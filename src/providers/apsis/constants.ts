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

/** A poll URL is valid for one day after the report was requested. */
export const POLL_URL_VALIDITY_MS = 86_400_000;

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
