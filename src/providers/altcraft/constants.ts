/** Altcraft API paths and status words (PROVIDERS.md); a deployment that differs is a one-line change here. */
export const ALTCRAFT_PATHS = {
  createExport: '/api/v1.1/profiles/get_all',
  taskStatus: '/api/v1.1/tasks/status',
} as const;

/** Status words, by meaning. The English docs say "completed", the Russian ones "success": both mean done. */
export const ALTCRAFT_STATUS = {
  done: ['completed', 'success'],
  inFlight: ['new', 'pending', 'queued', 'processing', 'in_progress', 'running'],
  failed: ['error', 'failed', 'canceled', 'cancelled'],
} as const;

export type AltcraftStatusMeaning = 'done' | 'inFlight' | 'failed' | 'unknown';

export function altcraftStatusMeaning(status: string): AltcraftStatusMeaning {
  const word = status.trim().toLowerCase();
  for (const meaning of ['done', 'inFlight', 'failed'] as const) {
    if ((ALTCRAFT_STATUS[meaning] as readonly string[]).includes(word)) return meaning;
  }
  return 'unknown';
}
