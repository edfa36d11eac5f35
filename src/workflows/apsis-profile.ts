import { condition, setHandler } from '@temporalio/workflow';
import type { ApsisActivities } from '../activities';
import { ApsisProfileInputSchema, type ApsisProfileInput } from '../shared/apsis-inputs';
import { resolveTiming } from '../shared/inputs';
import type { ExportManifest } from '../shared/manifest';
import { apsisCallbackSignal, type ApsisCallbackSignal } from '../shared/contract';
import { parseInput } from './parse-input';
import { MAX_REMOTE_ATTEMPTS, mayRequestAgain, requestAgainOrThrow } from './request-again';
import { ExportDeadline } from './deadline';
import { runExport } from './run-export';
import { ExportTracker } from './tracker';
import { vendorActivities } from './activity-options';
import { withQuotaWait } from './quota-wait';
import { accountOf } from '../shared/accounts';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';

const PROFILE_FILE = 'profile.json';

/**
 * Exports one APSIS One profile by callback: request the export (an activity makes this export's callback URL
 * and hands it to APSIS), wait for the receiver's signal with a timeout, then stream the data URL's JSON to a
 * file. A callback that never comes, or data that is gone, leads to a new request (bounded), then a clear failure.
 */
export async function apsisProfileExport(rawInput: ApsisProfileInput): Promise<ExportManifest> {
  const input = parseInput(ApsisProfileInputSchema, rawInput);
  const timing = resolveTiming(input.timing);
  const tracker = new ExportTracker('apsis-profile', input.carryOver);
  const deadline = new ExportDeadline(tracker, timing);
  const { create, stream: download } = vendorActivities<ApsisActivities>(
    'apsis',
    timing,
    {
      callTimeout: '2m',
      callInitialInterval: '1s',
      streamTimeout: '1h',
      streamAttempts: 10,
      account: accountOf(input),
    },
    deadline,
  );
  const quota = { tracker, timing, vendor: 'apsis' as const, account: accountOf(input) };

  // Set before anything else: a callback signalled while the request is still in flight is kept, not lost.
  // The first result wins; duplicates and data URLs already tried are ignored.
  let callback: ApsisCallbackSignal | undefined;
  const tried = new Set<string>();
  setHandler(apsisCallbackSignal, (signal) => {
    if (signal.code === 100 || callback !== undefined || tried.has(signal.message)) return;
    callback = signal;
  });

  // Each request gets an equal share of EXPORTFLOW_MAX_WAIT to be answered.
  const waitPerRequestMs = Math.max(1000, Math.floor(timing.maxWaitMs / MAX_REMOTE_ATTEMPTS));
  let callbackBase = '';

  return runExport(tracker, async () => {
    for (;;) {
      if (callback === undefined) {
        tracker.setPhase('creating');
        ({ callbackBase } = await deadline.within('APSIS One single-profile export request', () =>
          withQuotaWait(quota, () =>
            create.apsisRequestProfileExport({
              exportKey: input.exportKey,
              section: input.section,
              history: input.history,
              typeDefinitions: input.typeDefinitions,
              merged: input.merged,
            }),
          ),
        ));
        tracker.created(`export-single#${tracker.attempts + 1}`);
        tracker.waitingFor('waiting for the APSIS callback');
        // The callback wait is the workflow's own timer: its share, but not past the deadline.
        const waitMs = deadline.capped(waitPerRequestMs);
        const answered = waitMs > 0 && (await condition(() => callback !== undefined, waitMs));
        if (!answered) {
          // Nothing was downloaded for an unanswered request: forget it (no clean-up call) and ask again.
          if (mayRequestAgain(tracker) && !deadline.passed()) {
            tracker.dropRemote();
            continue;
          }
          throw finalFailure(
            FAILURE_TYPES.timeout,
            `APSIS One never called back for the single-profile export (requested ${tracker.attempts} times, waited up to ${Math.round(waitPerRequestMs / 1000)}s each); check that ${callbackBase || 'CALLBACK_PUBLIC_URL'} reaches an exportflow callback receiver`,
          );
        }
      }
      const answer = callback!;
      if (answer.code !== 200) {
        throw finalFailure(
          FAILURE_TYPES.jobFailed,
          `APSIS One reported code ${answer.code} for the single-profile export: ${answer.message.slice(0, 300)}`,
        );
      }
      tried.add(answer.message);
      const apsisId = lastSegment(answer.message);
      if (apsisId) tracker.identified(apsisId);
      tracker.startDownloads(1);
      try {
        tracker.fileStored(await download.apsisDownloadProfile({ dataUrl: answer.message, fileName: PROFILE_FILE }));
      } catch (err) {
        // Cleared before the clean-up, as before: a new callback arriving meanwhile is for the next request.
        callback = undefined;
        await requestAgainOrThrow(tracker, err, { on: [FAILURE_TYPES.gone], job: 'the profile export' });
        continue;
      }
      return tracker.manifest();
    }
  });
}

/** The data URL's last path segment (the export's id at APSIS), for the manifest's `remote.id`. */
function lastSegment(url: string): string | undefined {
  const path = url.split(/[?#]/)[0] ?? '';
  return path.split('/').filter(Boolean).pop();
}
