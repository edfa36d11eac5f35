/** myTracker segment export API (evidence: docs/vendors/mytracker.md); a deployment that differs is a one-line change here. */
export const MYTRACKER_PATHS = {
  createExport: '/api/segment/v1/export/create.json',
  exportStatus: '/api/segment/v1/export/get.json',
  /** The API user's quota counters (docs/vendors/mytracker.md; the vendor's PHP client wraps it in QuotasClient). */
  quotas: '/api/open/user/v1/quotas/get.json',
} as const;

/** Query parameter names. Every parameter travels in the query; bodies stay empty, as the vendor's client does. */
export const MYTRACKER_PARAMS = {
  segment: 'idSegment',
  exportId: 'idSegmentExport',
  /** Columns to export, sent as one comma-separated value. */
  fields: 'requestFields',
  /** Asked for explicitly: the row count of each file subtracts this header line. */
  headerLine: 'includeHeaderLine',
} as const;

/** `data.status` words of get.json, and what each means for an export. */
export const MYTRACKER_STATUS = {
  inProgress: 'In progress',
  errorOccurred: 'Error occurred',
  userError: 'User error occurred',
  canceled: 'Canceled by user',
  success: 'Success!',
} as const;

export type MyTrackerStatusMeaning = keyof typeof MYTRACKER_STATUS | 'unknown';

/** Maps a status word to its meaning; spacing and case are forgiven, any other word is 'unknown'. */
export function mytrackerStatusMeaning(status: string): MyTrackerStatusMeaning {
  const word = status.trim().replace(/\s+/g, ' ').toLowerCase();
  for (const [meaning, text] of Object.entries(MYTRACKER_STATUS)) {
    if (text.toLowerCase() === word) return meaning as keyof typeof MYTRACKER_STATUS;
  }
  return 'unknown';
}

/** A link whose expiry is this close is treated as expired: a download needs some time to finish. */
export const LINK_EXPIRY_MARGIN_MS = 5_000;
