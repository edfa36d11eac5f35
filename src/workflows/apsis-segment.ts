import { ActivityCancellationType, ApplicationFailure, continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { ApsisActivities } from '../activities';
import { ApsisSegmentInputSchema, type ApsisReportState, type ApsisSegmentInput } from '../shared/apsis-inputs';
import { resolveTiming } from '../shared/inputs';
import type { ExportManifest, ManifestFile } from '../shared/manifest';
import { failureType, parseInput, userMessage } from './failures';
import {
  MAX_REMOTE_ATTEMPTS,
  discardRemote,
  pollUntilDone,
  runExport,
  vendorQueue,
  withinMaxWait,
  createHeartbeatTimeoutMs,
} from './steps';
import { ExportTracker } from './tracker';

/** Failures after which APSIS's own advice is to request a new report. */
const REQUEST_AGAIN = ['VendorJobGone', 'VendorJobFailed'];

/**
 * Exports the profiles of APSIS One segments: request the report once, poll its URL with back-off (each poll
 * either hears "not ready" or streams the file to disk), and request a new report (bounded) when APSIS says the
 * file is gone or its processing failed. The poll URL lives in workflow state; the token never does.
 */
export async function apsisSegmentExport(rawInput: ApsisSegmentInput): Promise<ExportManifest> {
  const input = parseInput(ApsisSegmentInputSchema, rawInput);
  const timing = resolveTiming(input.timing);
  const tracker = new ExportTracker('apsis-segment', input.carryOver);
  const callOptions: ActivityOptions = {
    taskQueue: vendorQueue('apsis'),
    startToCloseTimeout: '2m',
    heartbeatTimeout: timing.heartbeatTimeoutMs,
    // Cancelled calls are waited for: an export ends only once none of its activities still runs.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 6 },
  };
  // Its one call creates the vendor job: taken for dead while it still works, it would leave a second one.
  const create = proxyActivities<ApsisActivities>({
    ...callOptions,
    heartbeatTimeout: createHeartbeatTimeoutMs(timing),
  });
  const poll = proxyActivities<ApsisActivities>({
    taskQueue: vendorQueue('apsis'),
    startToCloseTimeout: '12h',
    heartbeatTimeout: timing.heartbeatTimeoutMs,
    // A poll may be streaming the file: a cancelled one is waited for, so the clean-up cannot race its writes.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 },
  });
  let report: ApsisReportState | undefined = input.carryOver?.remoteId ? input.report : undefined;

  return runExport(tracker, async () => {
    for (;;) {
      if (!report) {
        tracker.setPhase('creating');
        report = await withinMaxWait(tracker, timing, 'APSIS One report request (profiles/reports/segments)', () =>
          create.apsisRequestSegmentReport({
            section: input.section,
            segments: input.segments,
            filter: input.filter,
            attributes: input.attributes,
            tags: input.tags,
          }),
        );
        tracker.created(report.reportId);
      }
      const current = report;
      let file: ManifestFile;
      try {
        file = await pollUntilDone<ManifestFile>(
          tracker,
          timing,
          async () => {
            if (Date.now() >= Date.parse(current.validUntil)) throw pollUrlExpired(current, tracker);
            const answer = await poll.apsisPollSegmentReport({ report: current, format: input.format });
            if (answer.state === 'stored') return { done: answer.file };
            const status = `not ready (HTTP ${answer.status})`;
            return { running: { status, percent: null, retryAfterMs: answer.retryAfterMs } };
          },
          () =>
            continueAsNew<typeof apsisSegmentExport>({ ...rawInput, carryOver: tracker.carryOver(), report: current }),
          `APSIS One report ${current.reportId}`,
        );
      } catch (err) {
        const type = failureType(err);
        if (type === undefined || !REQUEST_AGAIN.includes(type)) throw err;
        // A URL that died of old age before the file was ready is the "not ready within a day" failure.
        if (Date.now() >= Date.parse(current.validUntil)) throw pollUrlExpired(current, tracker);
        if (tracker.attempts >= MAX_REMOTE_ATTEMPTS) {
          throw ApplicationFailure.create({
            type,
            message: `${userMessage(err)} (gave up after requesting the report ${tracker.attempts} times)`,
            nonRetryable: true,
          });
        }
        await discardRemote(tracker);
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
  return ApplicationFailure.create({
    type: 'VendorTimeout',
    message: `APSIS One report ${report.reportId} was not ready before its poll URL expired at ${report.validUntil} (a poll URL is valid for 1 day)${last}`,
    nonRetryable: true,
  });
}
