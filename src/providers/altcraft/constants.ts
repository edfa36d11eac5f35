/** Altcraft API paths and status words (evidence: docs/vendors/altcraft.md); a deployment that differs is a one-line change here. */
export const ALTCRAFT_PATHS = {
  createExport: '/api/v1.1/profiles/get_all',
  taskStatus: '/api/v1.1/tasks/status',
} as const;

/**
 * Status words, by meaning. The pages show only finished words: the English one "completed", the Russian one
 * "success". Running words are not documented at all, so `inFlight` is only the list of words we have seen or
 * expect; any other word without a `result` is taken as still running too (see interpretStatus). Only words
 * that clearly mean failure end an export.
 */
export const ALTCRAFT_STATUS = {
  done: ['completed', 'success'],
  inFlight: ['new', 'pending', 'queued', 'processing', 'in_progress', 'running'],
  failed: [
    'error',
    'failed',
    'failure',
    'fail',
    'canceled',
    'cancelled',
    'aborted',
    'rejected',
    'terminated',
    'expired',
  ],
} as const;

export type AltcraftStatusMeaning = 'done' | 'inFlight' | 'failed' | 'unknown';

/** Maps a status word to its meaning (case and surrounding spaces forgiven); a word in no list is 'unknown'. */
export function altcraftStatusMeaning(status: string): AltcraftStatusMeaning {
  const word = status.trim().toLowerCase();
  for (const meaning of ['done', 'inFlight', 'failed'] as const) {
    if ((ALTCRAFT_STATUS[meaning] as readonly string[]).includes(word)) return meaning;
  }
  return 'unknown';
}

/**
 * How a file download carries the API token: the English page sends `Authorization: Bearer`, the Russian v72 page
 * appends `?token=` to the URL. Bearer is tried first; the query form only after a 401/403.
 */
export const ALTCRAFT_TOKEN_FORMS = ['bearer', 'query'] as const;
export type AltcraftTokenForm = (typeof ALTCRAFT_TOKEN_FORMS)[number];
/** Query parameter of the v72 token form. */
export const ALTCRAFT_TOKEN_PARAM = 'token';

/**
 * "402 Tariff limit reached" (Altcraft docs, "API interaction", answer codes): the panel's plan allows no more.
 * Final: retrying spends nothing useful until the tariff changes. It may come as the HTTP status or as the
 * body's `error` code (Altcraft puts its codes in the body even with HTTP 200); either reads the same.
 */
export const ALTCRAFT_TARIFF_LIMIT = { code: 402, text: 'Tariff limit reached' } as const;
