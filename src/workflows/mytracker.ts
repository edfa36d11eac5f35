import type { MyTrackerActivities } from '../activities';
import type { MyTrackerLink } from '../activities/mytracker';
import { fileNamesFor } from '../shared/file-names';
import { MyTrackerInputSchema, resolveTiming, type MyTrackerInput } from '../shared/inputs';
import { totalRowsOf, type ExportManifest } from '../shared/manifest';
import { failureType, userMessage } from './activity-failures';
import { parseInput } from './parse-input';
import { requestAgainOrThrow } from './request-again';
import { downloadExportFiles, exportSpent } from './mytracker-files';
import { continueExport } from './continue-as-new';
import { ExportDeadline } from './deadline';
import { JobPoller } from './poll';
import { runExport } from './run-export';
import { ExportTracker } from './tracker';
import { vendorActivities } from './activity-options';
import { withQuotaWait } from './quota-wait';
import { accountOf } from '../shared/accounts';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';

/** "Error occurred" this many polls in a row means the export is broken for good, not a hiccup. */
export const ERROR_OCCURRED_POLLS = 3;

/**
 * Exports a myTracker segment: request the export once (or take over an existing one by id), poll get.json
 * with back-off, then download every file in parallel. An export stuck in "Error occurred" or whose links
 * expire for good is requested anew (bounded); a handed-over export cannot be, so that fails clearly.
 */
export async function mytrackerExport(rawInput: MyTrackerInput): Promise<ExportManifest> {
  const input = parseInput(MyTrackerInputSchema, rawInput);
  const timing = resolveTiming(input.timing);
  const tracker = new ExportTracker('mytracker', input.carryOver);
  const deadline = new ExportDeadline(tracker, timing);
  const poller = new JobPoller(tracker, timing, deadline);
  const {
    call: api,
    create,
    stream: files,
  } = vendorActivities<MyTrackerActivities>(
    'mytracker',
    timing,
    {
      callTimeout: '1m',
      callInitialInterval: '2s',
      streamTimeout: '12h',
      streamAttempts: 20,
      account: accountOf(input),
      downloadsOffQuota: true,
    },
    deadline,
  );
  const quota = { tracker, timing, vendor: 'mytracker' as const, account: accountOf(input) };
  const handedOver = input.exportId;

  /** Polls until "Success!" and returns the links; "Error occurred" that persists throws MyTrackerExportSpent. */
  const untilSuccess = (exportId: string): Promise<MyTrackerLink[]> => {
    let errorPolls = 0;
    const done = poller.untilDone({
      describeJob: `myTracker export ${exportId}`,
      pollOnce: async () => {
        const poll = await withQuotaWait(quota, () => api.mytrackerExportStatus({ exportId }));
        if (poll.state !== 'errorOccurred') {
          errorPolls = 0;
          return poll;
        }
        if (++errorPolls >= ERROR_OCCURRED_POLLS) {
          throw exportSpent(`it reported "${poll.status}" ${errorPolls} polls in a row`);
        }
        return { state: 'running', status: poll.status, progress: null };
      },
      continueAsNew: () => continueExport<typeof mytrackerExport>({ ...rawInput, carryOver: tracker.carryOver() }),
    });
    return done.then((poll) => poll.files);
  };

  return runExport(tracker, async () => {
    for (;;) {
      if (!tracker.remoteId) {
        if (handedOver !== undefined) {
          tracker.created(handedOver);
        } else {
          tracker.setPhase('creating');
          const { exportId } = await deadline.within('myTracker export request (create.json)', () =>
            withQuotaWait(quota, () =>
              create.mytrackerCreateExport({ segmentId: input.segmentId!, fields: input.fields }),
            ),
          );
          tracker.created(exportId);
        }
      }
      const exportId = tracker.remoteId!;
      try {
        const links = await untilSuccess(exportId);
        tracker.startDownloads(links.length);
        const stored = await downloadExportFiles({
          links,
          names: fileNamesFor(
            links.map((l) => l.link),
            `segment_export_${exportId}`,
            '.csv.gz',
          ),
          download: (req) => files.mytrackerDownload(req),
          refreshLinks: () => untilSuccess(exportId),
          onStored: (file) => tracker.fileStored(file),
        });
        // Rows are exact only once every file is in (the header is in the first file only): count them here.
        return { ...tracker.manifest(), files: stored, totalRows: totalRowsOf(stored) };
      } catch (err) {
        if (failureType(err) !== FAILURE_TYPES.mytrackerSpent) throw err;
        const why = userMessage(err);
        if (handedOver !== undefined) {
          throw finalFailure(
            FAILURE_TYPES.jobFailed,
            `myTracker export ${exportId} cannot deliver: ${why}. It was handed over by id (--export-id), so ` +
              'exportflow cannot request it again; start the export from its segment (--segment) instead',
          );
        }
        await requestAgainOrThrow(tracker, err, {
          on: [FAILURE_TYPES.mytrackerSpent],
          job: `an export of segment ${input.segmentId}`,
          finalType: FAILURE_TYPES.jobFailed,
          lastError: `myTracker export ${exportId} cannot deliver: ${why}`,
        });
      }
    }
  });
}
