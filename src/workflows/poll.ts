import { sleep, workflowInfo } from '@temporalio/workflow';
import type { ResolvedTiming } from '../shared/inputs';
import type { JobRunning } from '../shared/job-poll';
import { nextPollDelayMs } from './backoff';
import { pollsPerRunOf, shouldContinueAsNew } from './continue-as-new';
import type { ExportDeadline } from './deadline';
import { isTransient, userMessage } from './activity-failures';
import { inWorkflowSpan } from './trace-span';
import type { ExportTracker } from './tracker';

/** Status polls that failed even after their activity's own retries, in a row, before the export gives up. */
export const MAX_CONSECUTIVE_POLL_FAILURES = 10;

/** One vendor job to poll until it is done. */
export interface VendorJobPoll<Done extends { state: 'done' }> {
  /** The job as messages name it: `Altcraft task 42`. */
  describeJob: string;
  /** One status call (through the quota wait); a final failure ends the poll, a transient one is survived. */
  pollOnce: () => Promise<JobRunning | Done>;
  /** Continues the export as new with its carry-over (continueExport), when the run has grown long. */
  continueAsNew: () => Promise<never>;
}

/**
 * The back-off round a poll loop starts at. A run continued as new resumes the wait it carried over, so its first
 * poll loop goes on at the back-off it had (the polls so far count as rounds) instead of polling from 5 s up again,
 * which cost six extra calls per run. Later loops in a run (a new vendor job, a link refresh) start afresh.
 * Only timer durations depend on this, never which commands are issued.
 */
export function firstRound(loop: {
  firstInRun: boolean;
  continued: boolean;
  hasRemote: boolean;
  polls: number;
}): number {
  return loop.firstInRun && loop.continued && loop.hasRemote ? loop.polls : 0;
}

/**
 * Polls vendor jobs until they are done, sleeping on durable timers with exponential back-off and jitter
 * (backoff.ts). Each status call is a step held to the export's deadline; transient poll failures are survived
 * until the deadline, final ones end the export. When the run has grown long (continue-as-new.ts) the job's
 * `continueAsNew` is called. Make one per run: it remembers whether the run has polled yet (see firstRound).
 */
export class JobPoller {
  /** Whether this run has entered a poll loop yet. */
  private loopEntered = false;

  constructor(
    private readonly tracker: ExportTracker,
    private readonly timing: ResolvedTiming,
    private readonly deadline: ExportDeadline,
  ) {}

  async untilDone<Done extends { state: 'done' }>(job: VendorJobPoll<Done>): Promise<Done> {
    const { tracker, timing, deadline } = this;
    const pollsPerRun = pollsPerRunOf(timing);
    const deadlineAt = deadline.at;
    let round = this.startRound();
    let failuresInRow = 0;
    let pollsThisRun = 0;
    for (;;) {
      let retryAfterMs: number | undefined;
      try {
        const result = await deadline.within(job.describeJob, job.pollOnce);
        failuresInRow = 0;
        if (result.state === 'done') return result;
        tracker.polled(result.status, result.progress);
        retryAfterMs = result.retryAfterMs;
      } catch (err) {
        if (!isTransient(err) || ++failuresInRow >= MAX_CONSECUTIVE_POLL_FAILURES) throw err;
        tracker.progress.vendorStatus = `poll failed, will retry: ${userMessage(err)}`;
      }
      const left = deadlineAt - Date.now();
      if (left <= 0) throw deadline.timeout(job.describeJob);
      const waitMs = Math.min(left, nextPollDelayMs(round++, timing, Math.random, retryAfterMs));
      // A span per interval shows the vendor's processing time in the export's trace (no command: replay-safe).
      await inWorkflowSpan('wait vendor job', { 'exportflow.wait': 'poll', 'exportflow.wait_ms': waitMs }, () =>
        sleep(waitMs),
      );
      if (shouldContinueAsNew(++pollsThisRun, pollsPerRun)) await job.continueAsNew();
    }
  }

  private startRound(): number {
    const firstInRun = !this.loopEntered;
    this.loopEntered = true;
    return firstRound({
      firstInRun,
      continued: Boolean(workflowInfo().continuedFromExecutionRunId),
      hasRemote: Boolean(this.tracker.remoteId),
      polls: this.tracker.progress.polls,
    });
  }
}
