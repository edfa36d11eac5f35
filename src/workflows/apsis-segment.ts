import { ApplicationFailure, patched } from '@temporalio/workflow';
import { releasePatched } from './patches';
import type { ApsisActivities } from '../activities';
import {
  POLL_URL_VALIDITY_MS,
  V1_NOT_FOUND_READY_WINDOW_MS,
  ApsisSegmentInputSchema,
  filterNamesIssue,
  type ApsisReportState,
  type ApsisSegmentInput,
} from '../shared/apsis-inputs';
import { resolveTiming } from '../shared/inputs';
import type { JobPoll } from '../shared/job-poll';
import type { ExportManifest, ManifestFile } from '../shared/manifest';
import { failureType } from './activity-failures';
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
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';

/** Failures after which APSIS's own advice is to request a new report. */
const REQUEST_AGAIN = [FAILURE_TYPES.gone, FAILURE_TYPES.jobFailed] as const;

/**
 * Exports the profiles of APSIS One segments: request the report once, poll its URL with back-off (each poll
 * either hears "not ready" or streams the file to disk), and request a new report (bounded) when APSIS says the
 * file is gone or its processing failed. The poll URL lives in workflow state; the token never does.
 */
export async function apsisSegmentExport(rawInput: ApsisSegmentInput): Promise<ExportManifest> {
  const input = parseInput(ApsisSegmentInputSchema, rawInput);
  // Filters are over segment names since this marker; older runs may carry a filter over discriminators.
  if (patched('apsis-filter-over-names')) {
    const issue = filterNamesIssue(input);
    if (issue) throw finalFailure(FAILURE_TYPES.invalidInput, `filter: ${issue}`);
  }
  const timing = resolveTiming(input.timing);
  const tracker = new ExportTracker('apsis-segment', input.carryOver);
  const deadline = new ExportDeadline(tracker, timing);
  const poller = new JobPoller(tracker, timing, deadline);
  // A poll may be streaming the file, so polls run as streaming activities.
  const { create, stream: poll } = vendorActivities<ApsisActivities>(
    'apsis',
    timing,
    {
      callTimeout: '2m',
      callInitialInterval: '1s',
      streamTimeout: '12h',
      streamAttempts: 10,
      account: accountOf(input),
    },
    deadline,
  );
  const quota = { tracker, timing, vendor: 'apsis' as const, account: accountOf(input) };
  let report: ApsisReportState | undefined = input.carryOver?.remoteId ? input.report : undefined;

  return runExport(tracker, async () => {
    for (;;) {
      if (!report) {
        tracker.setPhase('creating');
        report = await deadline.within('APSIS One report request (profiles/reports/segments)', () =>
          withQuotaWait(quota, () =>
            create.apsisRequestSegmentReport({
              section: input.section,
              segments: input.segments,
              filter: input.filter,
              attributes: input.attributes,
              tags: input.tags,
            }),
          ),
        );
        tracker.created(report.reportId);
      }
      const current = report;
      let file: ManifestFile;
      try {
        const stored = await poller.untilDone({
          describeJob: `APSIS One report ${current.reportId}`,
          pollOnce: async (): Promise<JobPoll<{ file: ManifestFile }>> => {
            if (Date.now() >= Date.parse(current.validUntil)) throw pollUrlExpired(current, tracker);
            const answer = await withQuotaWait(quota, () =>
              poll.apsisPollSegmentReport({ report: current, format: input.format }),
            );
            // The poll that finds the report ready has already stored its file.
            if (answer.state === 'stored') return { state: 'done', status: 'stored', file: answer.file };
            // An older URL's 404 also means "no longer available or the ID provided is invalid": past the
            // readiness window it is taken as gone, and the report is requested again (bounded) below.
            if (
              current.pollKind === 'v1' &&
              answer.status === 404 &&
              Date.now() >= v1NotFoundGoneAt(current) &&
              releasePatched()
            ) {
              throw v1NotFoundGone(current);
            }
            const status = `not ready (HTTP ${answer.status})`;
            return { state: 'running', status, progress: null, retryAfterMs: answer.retryAfterMs };
          },
          continueAsNew: () =>
            continueExport<typeof apsisSegmentExport>({ ...rawInput, carryOver: tracker.carryOver(), report: current }),
        });
        file = stored.file;
      } catch (err) {
        // A URL that died of old age before the file was ready is the "not ready within a day" failure.
        const spent = REQUEST_AGAIN.some((t) => t === failureType(err));
        if (spent && Date.now() >= Date.parse(current.validUntil)) throw pollUrlExpired(current, tracker);
        await requestAgainOrThrow(tracker, err, { on: REQUEST_AGAIN, job: 'the report' });
        report = undefined;
        continue;
      }
      tracker.startDownloads(1);
      tracker.fileStored(file);
      return tracker.manifest();
    }
  });
}

function pollUrlExpired(report: ApsisReportState, tracker: ExportTracker): ApplicationFailure {
  const last = tracker.progress.vendorStatus ? `; last answer: ${tracker.progress.vendorStatus}` : '';
  return finalFailure(
    FAILURE_TYPES.timeout,
    `APSIS One report ${report.reportId} was not ready before its poll URL expired at ${report.validUntil} (a poll URL is valid for 1 day)${last}`,
  );
}

/** When an older poll URL's 404 stops meaning "not ready": V1_NOT_FOUND_READY_WINDOW_MS after the request. */
function v1NotFoundGoneAt(report: ApsisReportState): number {
  // States recorded before requestedAt was kept: the poll URL's validity is at most a day after the request.
  const requestedAt = report.requestedAt
    ? Date.parse(report.requestedAt)
    : Date.parse(report.validUntil) - POLL_URL_VALIDITY_MS;
  return requestedAt + V1_NOT_FOUND_READY_WINDOW_MS;
}

function v1NotFoundGone(report: ApsisReportState): ApplicationFailure {
  const hours = V1_NOT_FOUND_READY_WINDOW_MS / 3_600_000;
  return finalFailure(
    FAILURE_TYPES.gone,
    `APSIS One report ${report.reportId}: its poll URL still answers HTTP 404 ${hours} h after the request; on an older poll URL APSIS's 404 also means "no longer available or the ID provided is invalid", so the report is taken as gone`,
  );
}
