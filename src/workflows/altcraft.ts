import { patched } from '@temporalio/workflow';
import type { AltcraftActivities } from '../activities';
import type { AltcraftTokenForm } from '../activities/altcraft';
import { fileNamesFor } from '../shared/file-names';
import { AltcraftInputSchema, resolveTiming, type AltcraftInput } from '../shared/inputs';
import type { ExportManifest, ManifestFile } from '../shared/manifest';
import { parseInput } from './parse-input';
import { requestAgainOrThrow } from './request-again';
import { continueExport } from './continue-as-new';
import { ExportDeadline } from './deadline';
import { JobPoller } from './poll';
import { runExport } from './run-export';
import { ExportTracker } from './tracker';
import { vendorActivities } from './activity-options';
import { withQuotaWait } from './quota-wait';
import { accountOf } from '../shared/accounts';
import { FAILURE_TYPES } from '../shared/failure-types';
import { PARALLEL_DOWNLOADS, forEachBounded } from './parallel';

/**
 * Exports all profiles of an Altcraft database or segment: create the task once, poll it with back-off,
 * stream every file. A task that fails on Altcraft's side or whose files expire is requested again (bounded).
 */
export async function altcraftExport(rawInput: AltcraftInput): Promise<ExportManifest> {
  const input = parseInput(AltcraftInputSchema, rawInput);
  const timing = resolveTiming(input.timing);
  const tracker = new ExportTracker('altcraft', input.carryOver);
  const deadline = new ExportDeadline(tracker, timing);
  const poller = new JobPoller(tracker, timing, deadline);
  const {
    call: api,
    create,
    stream: download,
  } = vendorActivities<AltcraftActivities>(
    'altcraft',
    timing,
    {
      callTimeout: '2m',
      callInitialInterval: '1s',
      streamTimeout: '12h',
      streamAttempts: 20,
      account: accountOf(input),
      downloadsOffQuota: true,
    },
    deadline,
  );
  const quota = { tracker, timing, vendor: 'altcraft' as const, account: accountOf(input) };

  return runExport(tracker, async () => {
    for (;;) {
      if (!tracker.remoteId) {
        tracker.setPhase('creating');
        const { taskId } = await deadline.within('Altcraft export request (profiles/get_all)', () =>
          withQuotaWait(quota, () =>
            create.altcraftCreateExport({
              sourceType: input.sourceType,
              sourceId: input.sourceId,
              format: input.format,
              filter: input.filter,
            }),
          ),
        );
        tracker.created(taskId);
      }
      const taskId = tracker.remoteId!;
      const done = await poller.untilDone({
        describeJob: `Altcraft task ${taskId}`,
        pollOnce: () => withQuotaWait(quota, () => api.altcraftTaskStatus({ taskId })),
        continueAsNew: () => continueExport<typeof altcraftExport>({ ...rawInput, carryOver: tracker.carryOver() }),
      });

      const names = fileNamesFor(done.urls, `${input.sourceId}_${input.sourceType}_export`, '.csv');
      tracker.startDownloads(done.urls.length);
      let files: ManifestFile[];
      try {
        files = await downloadTaskFiles(done.urls, names, (req) => download.altcraftDownload(req), tracker);
      } catch (err) {
        // Download links that vanished: the task is spent; ask Altcraft for a new one while attempts remain.
        await requestAgainOrThrow(tracker, err, { on: [FAILURE_TYPES.gone], job: 'the task' });
        continue;
      }
      tracker.checkVendorTotal('Altcraft', done.total, input.requireTotal === true);
      return { ...tracker.manifest(), files };
    }
  });
}

type AltcraftDownload = (req: {
  url: string;
  fileName: string;
  tokenForm?: AltcraftTokenForm;
}) => Promise<ManifestFile & { tokenForm?: AltcraftTokenForm }>;

/**
 * Downloads a finished task's files and returns them in Altcraft's order. The first file goes alone: it finds
 * out which token form the panel takes (Bearer, or ?token= on v72 panels), and the rest are sent with that form,
 * PARALLEL_DOWNLOADS at a time. Exports whose history predates parallel downloads replay one file at a time.
 */
async function downloadTaskFiles(
  urls: string[],
  names: string[],
  download: AltcraftDownload,
  tracker: ExportTracker,
): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  let tokenForm: AltcraftTokenForm | undefined;
  const fetchFile = async (index: number): Promise<void> => {
    const stored = await download({ url: urls[index]!, fileName: names[index]!, ...(tokenForm ? { tokenForm } : {}) });
    const { tokenForm: used, ...file } = stored;
    // Histories written before the token forms existed carry no tokenForm.
    if (used) tokenForm = used;
    files[index] = file;
    tracker.fileStored(file);
  };
  if (urls.length > 1 && patched('altcraft-parallel-downloads')) {
    await fetchFile(0);
    await forEachBounded(urls.length - 1, PARALLEL_DOWNLOADS, (index) => fetchFile(index + 1));
  } else {
    for (let index = 0; index < urls.length; index++) await fetchFile(index);
  }
  return files;
}
