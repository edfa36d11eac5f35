import { AltcraftClient, tariffLimitFromAnswer } from '../providers/altcraft/client';
import { ALTCRAFT_TARIFF_LIMIT, type AltcraftTokenForm } from '../providers/altcraft/constants';
import { FAILURE_TYPES } from '../shared/failure-types';
import { ClassifiedError } from '../providers/errors';

export type { AltcraftTokenForm } from '../providers/altcraft/constants';
import type { AltcraftInputParsed } from '../shared/inputs';
import type { ManifestFile } from '../shared/manifest';
import { asActivity, asVendorCall } from './as-activity';
import { vendorCredentials, type AccountRef } from './accounts';
import { activityLogger, type ActivityDeps } from './context';
import { downloadInActivity } from './download-in-activity';
import type { JobPoll } from '../shared/job-poll';

/** Altcraft's task state without `known`, which only decides a log line here. */
export type AltcraftPoll = JobPoll<{ urls: string[]; total: number | null }>;

/** A stored file and the token form the panel took for it, which the workflow passes to the next download. */
export type AltcraftStoredFile = ManifestFile & { tokenForm: AltcraftTokenForm };

/** Undocumented status words already logged by this worker: one line per word, not one per poll. */
const loggedWords = new Set<string>();
const MAX_LOGGED_WORDS = 100;

/** Altcraft activities: one vendor call each, credentials from the worker's environment only. */
export function createAltcraftActivities(deps: ActivityDeps) {
  const client = (account: string | undefined): AltcraftClient =>
    new AltcraftClient(vendorCredentials(deps.config, 'altcraft', account));

  return {
    /** Creates the export task on Altcraft and returns its id. */
    async altcraftCreateExport(
      input: Pick<AltcraftInputParsed, 'sourceType' | 'sourceId' | 'format' | 'filter'> & AccountRef,
    ): Promise<{ taskId: string }> {
      const api = client(input.account);
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
    async altcraftTaskStatus(input: { taskId: string } & AccountRef): Promise<AltcraftPoll> {
      const api = client(input.account);
      return asVendorCall(async (signal) => {
        const state = await api.taskStatus(input.taskId, signal);
        if (state.state === 'running' && !state.known && !loggedWords.has(state.status)) {
          if (loggedWords.size < MAX_LOGGED_WORDS) loggedWords.add(state.status);
          activityLogger(deps, 'altcraft').warn(
            { taskId: input.taskId, status: state.status },
            'altcraft reported a status word no page documents; reading it as still running',
          );
        }
        // Field by field: the activity's result shape is what histories hold.
        return state.state === 'done'
          ? { state: 'done', status: state.status, urls: state.urls, total: state.total }
          : { state: 'running', status: state.status, progress: state.progress };
      });
    },

    /**
     * Streams one of the task's files into the export directory. The token goes as a Bearer header first (the
     * English page); a panel that answers 401/403 gets the same file once more with `?token=` (the Russian v72 page). The form
     * that worked comes back so the workflow sends it straight away for the export's other files.
     */
    async altcraftDownload(
      input: {
        url: string;
        fileName: string;
        tokenForm?: AltcraftTokenForm;
      } & AccountRef,
    ): Promise<AltcraftStoredFile> {
      const api = client(input.account);
      return asActivity(async () => {
        const fetchWith = (tokenForm: AltcraftTokenForm) => {
          const target = api.downloadTarget(input.url, tokenForm);
          return downloadInActivity(deps, {
            vendor: 'altcraft',
            url: target.url,
            headers: target.headers,
            fileName: input.fileName,
            countCsvRows: true,
            contentTypeFallback: 'text/csv',
            classifyStatus: (status, text) =>
              status === 401 || status === 403
                ? tokenRefused(status)
                : status === ALTCRAFT_TARIFF_LIMIT.code
                  ? tariffLimitFromAnswer('download', text)
                  : undefined,
          });
        };
        const first = input.tokenForm ?? 'bearer';
        let tokenForm: AltcraftTokenForm = first;
        let file: ManifestFile;
        try {
          file = await fetchWith(first);
        } catch (err) {
          if (!(err instanceof ClassifiedError && err.type === FAILURE_TYPES.auth && first === 'bearer')) throw err;
          activityLogger(deps, 'altcraft').info(
            { file: input.fileName, status: err.details.status },
            'altcraft panel refused the Bearer header; trying the token as ?token= (the v72 form)',
          );
          tokenForm = 'query';
          try {
            file = await fetchWith('query');
          } catch (again) {
            if (again instanceof ClassifiedError && again.type === FAILURE_TYPES.auth) throw bothFormsRefused(again);
            throw again;
          }
        }
        activityLogger(deps, 'altcraft').info(
          { file: file.name, bytes: file.bytes, rows: file.rows, tokenForm },
          'file stored',
        );
        return { ...file, tokenForm };
      });
    },
  };
}

function tokenRefused(status: number): ClassifiedError {
  return new ClassifiedError(FAILURE_TYPES.auth, `Altcraft download refused the API token (HTTP ${status})`, false, {
    vendor: 'altcraft',
    endpoint: 'download',
    status,
  });
}

function bothFormsRefused(err: ClassifiedError): ClassifiedError {
  return new ClassifiedError(
    FAILURE_TYPES.auth,
    `Altcraft download refused the API token both as an Authorization: Bearer header and as ?token= ` +
      `(HTTP ${err.details.status ?? '?'}); check ALTCRAFT_TOKEN in the worker environment`,
    false,
    err.details,
  );
}
