import { AltcraftClient } from '../providers/altcraft/client';
import type { AltcraftInputParsed } from '../shared/inputs';
import type { ManifestFile } from '../shared/manifest';
import { asActivity, asVendorCall, missingSetting } from './failures';
import { activityLogger, type ActivityDeps } from './context';
import { downloadInActivity } from './files';

export type AltcraftPoll =
  | { state: 'running'; status: string; progress: number | null }
  | { state: 'done'; status: string; urls: string[]; total: number | null };

/** Altcraft activities: one vendor call each, credentials from the worker's environment only. */
export function createAltcraftActivities(deps: ActivityDeps) {
  const client = (): AltcraftClient => {
    const { baseUrl, token } = deps.config.altcraft;
    if (!baseUrl) throw missingSetting('ALTCRAFT_BASE_URL', 'Altcraft');
    if (!token) throw missingSetting('ALTCRAFT_TOKEN', 'Altcraft');
    return new AltcraftClient({ baseUrl, token });
  };

  return {
    /** Creates the export task on Altcraft and returns its id. */
    async altcraftCreateExport(
      input: Pick<AltcraftInputParsed, 'sourceType' | 'sourceId' | 'format' | 'filter'>,
    ): Promise<{ taskId: string }> {
      const api = client();
      return asVendorCall(async (signal) => {
        const taskId = await api.createExport(
          {
            source_type: input.sourceType,
            source_id: input.sourceId,
            file_format: input.format,
            ...(input.filter ? { custom_request: input.filter } : {}),
          },
          signal,
        );
        activityLogger(deps, 'altcraft').info({ taskId }, 'altcraft export task created');
        return { taskId };
      });
    },

    /** Reads the task status once. */
    async altcraftTaskStatus(input: { taskId: string }): Promise<AltcraftPoll> {
      const api = client();
      return asVendorCall(async (signal) => {
        const state = await api.taskStatus(input.taskId, signal);
        return state.kind === 'done'
          ? { state: 'done', status: state.status, urls: state.urls, total: state.total }
          : { state: 'running', status: state.status, progress: state.progress };
      });
    },

    /** Streams one of the task's files into the export directory. */
    async altcraftDownload(input: { url: string; fileName: string }): Promise<ManifestFile> {
      const api = client();
      return asActivity(async () => {
        const target = api.downloadTarget(input.url);
        const file = await downloadInActivity(deps, {
          vendor: 'altcraft',
          url: target.url,
          headers: target.headers,
          fileName: input.fileName,
          countCsvRows: true,
          contentTypeFallback: 'text/csv',
        });
        activityLogger(deps, 'altcraft').info({ file: file.name, bytes: file.bytes, rows: file.rows }, 'file stored');
        return file;
      });
    },
  };
}
