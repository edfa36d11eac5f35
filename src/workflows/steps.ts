import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ContinueAsNew,
  isCancellation,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  sleep,
  TimeoutFailure,
  workflowInfo,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type Workflow,
} from '@temporalio/workflow';
import { releasePatched } from './patches';
import { RetryState, TimeoutType } from '@temporalio/common';
import type { CommonActivities } from '../activities';
import { LEGACY_POLLS_PER_RUN, type ResolvedTiming, type Timing } from '../shared/inputs';
import type { ExportManifest } from '../shared/manifest';
import type { JobRunning } from '../shared/job-poll';
import { nextPollDelayMs } from './backoff';
import { inWorkflowSpan } from './trace-span';
import { isTransient, userMessage } from './activity-failures';
import type { ExportTracker } from './tracker';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';
import { vendorTaskQueue } from '../shared/contract';
import { type Vendor } from '../shared/vendors';

/** How often a vendor job may be requested in one export (first try + re-requests after vendor failures). */
export const MAX_REMOTE_ATTEMPTS = 3;
/** Status polls that failed even after their activity's own retries, in a row, before the export gives up. */
const MAX_CONSECUTIVE_POLL_FAILURES = 10;
/** Bound history well below Temporal's limits even when the server does not suggest continuing. */
const MAX_HISTORY_EVENTS = 10_000;
/**
 * A wait step further than this from the deadline needs no timer of its own: the activity's own timeouts and
 * retries end long before (this keeps a long export's history free of a timer per poll).
 */
const STEP_NEEDS_NO_TIMER_MS = 3_600_000;
/** A step that starts at or past the deadline (a link refresh late in a long download) still gets this long. */
const LATE_STEP_GRACE_MS = 30_000;

const common = proxyActivities<CommonActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

/** The vendor's activity task queue beside this workflow's own queue. */
export function vendorQueue(vendor: Vendor): string {
  return vendorTaskQueue(workflowInfo().taskQueue, vendor);
}

/**
 * Polls a vendor job until it is done, sleeping on durable timers with exponential back-off and jitter.
 * Transient poll failures are survived until the deadline (EXPORTFLOW_MAX_WAIT from the export's start);
 * final ones end the export. When history grows, `continueAsNew` is called with the tracker's carry-over.
 */
export async function pollUntilDone<Done extends { state: 'done' }>(
  tracker: ExportTracker,
  timing: ResolvedTiming,
  pollOnce: () => Promise<JobRunning | Done>,
  continueAsNew: () => Promise<never>,
  describeJob: string,
): Promise<Done> {
  const pollsPerRun = pollsPerRunOf(timing);
  const deadline = exportDeadline(tracker, timing);
  let round = resumedRound(tracker);
  let failuresInRow = 0;
  let pollsThisRun = 0;
  for (;;) {
    let retryAfterMs: number | undefined;
    try {
      const result = await withinMaxWait(tracker, timing, describeJob, pollOnce);
      failuresInRow = 0;
      if (result.state === 'done') return result;
      tracker.polled(result.status, result.progress);
      retryAfterMs = result.retryAfterMs;
    } catch (err) {
      if (!isTransient(err) || ++failuresInRow >= MAX_CONSECUTIVE_POLL_FAILURES) throw err;
      tracker.progress.vendorStatus = `poll failed, will retry: ${userMessage(err)}`;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw vendorTimeout(tracker, timing, describeJob);
    const waitMs = Math.min(left, nextPollDelayMs(round++, timing, Math.random, retryAfterMs));
    // A span per interval shows the vendor's processing time in the export's trace (no command: replay-safe).
    await inWorkflowSpan('wait vendor job', { 'exportflow.wait': 'poll', 'exportflow.wait_ms': waitMs }, () =>
      sleep(waitMs),
    );
    if (++pollsThisRun >= pollsPerRun || historyIsLong()) await continueAsNew();
  }
}

/** Whether this run has entered a poll loop yet (module state is per workflow run). */
let pollLoopEntered = false;

/**
 * Back-off round to start at. A run continued as new resumes the wait it carried over, so its first poll loop
 * goes on at the back-off it had (the polls so far count as rounds) instead of polling from 5 s up again,
 * which cost six extra calls per run. Later loops in a run (a new vendor job, a link refresh) start afresh.
 * Only timer durations depend on this, never which commands are issued.
 */
function resumedRound(tracker: ExportTracker): number {
  const first = !pollLoopEntered;
  pollLoopEntered = true;
  return first && workflowInfo().continuedFromExecutionRunId && tracker.remoteId ? tracker.progress.polls : 0;
}

/**
 * Polls per run before continue-as-new. v0.1.0 continued after 500 by default, which let a 24 h wait grow a
 * run to over 3,000 events; the default is now DEFAULT_TIMING.pollsPerRun. A run that v0.1.0 started without
 * an explicit pollsPerRun keeps 500 (it holds no marker for this patch), so its continue-as-new replays at
 * the same poll. An explicit pollsPerRun in the input is used as it is, as before.
 */
function pollsPerRunOf(timing: ResolvedTiming): number {
  if (!timing.pollsPerRunDefaulted) return timing.pollsPerRun;
  return patched('polls-per-run-default-120') ? timing.pollsPerRun : LEGACY_POLLS_PER_RUN;
}

/**
 * Heartbeat timeout of a call that creates a vendor job. No vendor API here takes an idempotency key, so a call
 * that Temporal takes for dead while it still works (a loaded machine, a slow heartbeat) is retried and leaves
 * the vendor holding a second job. Such calls get at least 30 s however short EXPORTFLOW_HEARTBEAT_TIMEOUT is;
 * a create call on a worker that really died is retried after that.
 */
export function createHeartbeatTimeoutMs(timing: Required<Timing>): number {
  return Math.max(timing.heartbeatTimeoutMs, 30_000);
}

/** When the export must stop waiting for the vendor: its first start plus EXPORTFLOW_MAX_WAIT. */
export function exportDeadline(tracker: ExportTracker, timing: Required<Timing>): number {
  return Date.parse(tracker.progress.startedAt) + timing.maxWaitMs;
}

/**
 * Runs one step of waiting for the vendor (a create request, a status poll) but not past EXPORTFLOW_MAX_WAIT:
 * a vendor that never answers, or a Retry-After of an hour, would otherwise keep the activity and its retries
 * going long after the deadline. At the deadline the step is cancelled and the export fails with VendorTimeout.
 */
export async function withinMaxWait<T>(
  tracker: ExportTracker,
  timing: Required<Timing>,
  describeJob: string,
  step: () => Promise<T>,
): Promise<T> {
  const left = exportDeadline(tracker, timing) - Date.now();
  const budget = Math.max(left, Math.min(LATE_STEP_GRACE_MS, Math.floor(timing.maxWaitMs / 4)));
  if (budget >= STEP_NEEDS_NO_TIMER_MS) return step();
  if (costCutsPatched()) return deadlineOnActivity(tracker, timing, describeJob, budget, step);
  try {
    return await CancellationScope.withTimeout(budget, step);
  } catch (err) {
    // Cancelled by our timer, not by the user (who cancels the workflow's root scope).
    if (isCancellation(err) && !CancellationScope.current().consideredCancelled) {
      throw vendorTimeout(tracker, timing, describeJob);
    }
    throw err;
  }
}

/**
 * The marker of the cuts in actions per export: a step's deadline travels with its activity as a
 * schedule-to-close timeout (the server ends the activity, its retries included, when the budget is spent)
 * instead of a scope timer per step, so a poll costs one activity attempt and the loop's one timer; search
 * attributes are upserted only where they change (tracker.ts). Older runs replay as recorded. It is this
 * release's one patch id (RELEASE_PATCH), shared with its other workflow changes.
 */
export function costCutsPatched(): boolean {
  return releasePatched();
}

/** The budget a step's activity must keep, offered while withinMaxWait starts the step (see proxyStepActivities). */
let offeredBudget: { ms: number; taken: boolean } | undefined;

async function deadlineOnActivity<T>(
  tracker: ExportTracker,
  timing: Required<Timing>,
  describeJob: string,
  budget: number,
  step: () => Promise<T>,
): Promise<T> {
  const scope = new CancellationScope({ cancellable: true });
  const offer = { ms: budget, taken: false };
  offeredBudget = offer;
  let running: Promise<T>;
  try {
    // A step schedules its activity synchronously, before its first await, so the offer reaches that activity.
    running = scope.run(step);
  } finally {
    offeredBudget = undefined;
  }
  // A step that scheduled no activity at once still must not outlive the deadline: a timer as before.
  let timer: CancellationScope | undefined;
  if (!offer.taken) {
    timer = new CancellationScope({ cancellable: true });
    timer
      .run(() => sleep(budget))
      .then(
        () => scope.cancel(),
        () => undefined,
      );
  }
  try {
    return await running;
  } catch (err) {
    if (offer.taken && isDeadlineExpiry(err)) throw vendorTimeout(tracker, timing, describeJob);
    if (timer && isCancellation(err) && !CancellationScope.current().consideredCancelled) {
      throw vendorTimeout(tracker, timing, describeJob);
    }
    throw err;
  } finally {
    if (timer && !timer.consideredCancelled) timer.cancel();
  }
}

/** An activity the server ended at its schedule-to-close timeout, or whose next retry would have passed it. */
function isDeadlineExpiry(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  if (err.retryState === RetryState.TIMEOUT) return true;
  return err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_CLOSE;
}

/**
 * proxyActivities whose calls take the deadline withinMaxWait offers: an activity scheduled while a step
 * starts gets the step's budget as its schedule-to-close timeout; other calls use `options` as they are.
 */
export function proxyStepActivities<A extends object>(options: ActivityOptions): ActivityInterfaceFor<A> {
  const plain = proxyActivities<A>(options);
  return new Proxy(plain, {
    get(target, name, receiver) {
      const fn = Reflect.get(target, name, receiver) as unknown;
      if (typeof fn !== 'function' || typeof name !== 'string') return fn;
      return (...args: unknown[]) => {
        const offer = offeredBudget;
        if (!offer || offer.taken) return (fn as (...a: unknown[]) => unknown)(...args);
        offer.taken = true;
        const bounded = proxyActivities<A>({ ...options, scheduleToCloseTimeout: offer.ms }) as Record<
          string,
          (...a: unknown[]) => unknown
        >;
        return bounded[name]!(...args);
      };
    },
  }) as ActivityInterfaceFor<A>;
}

function vendorTimeout(tracker: ExportTracker, timing: Required<Timing>, describeJob: string): ApplicationFailure {
  const { vendorStatus, vendorPercent } = tracker.progress;
  const last = vendorStatus
    ? ` (last status "${vendorStatus}"${vendorPercent !== null ? `, ${vendorPercent}%` : ''})`
    : ' (no status)';
  return finalFailure(
    FAILURE_TYPES.timeout,
    `${describeJob} did not finish within EXPORTFLOW_MAX_WAIT (${Math.round(timing.maxWaitMs / 1000)}s)${last}`,
  );
}

/**
 * continue-as-new that hands the run's search attributes to the next run: Temporal starts the new run with the
 * attributes the command names and no others (the TypeScript SDK names none by default), so without them the
 * next run had to upsert all four again, an action per run.
 */
export function continueExport<F extends Workflow>(...args: Parameters<F>): Promise<never> {
  return makeContinueAsNewFunc<F>({ typedSearchAttributes: workflowInfo().typedSearchAttributes })(...args);
}

/** Forgets a spent vendor job and removes the files already taken from it, before the export asks anew. */
export async function discardRemote(tracker: ExportTracker): Promise<void> {
  await common.removeExportFiles({ workflowId: workflowInfo().workflowId });
  tracker.dropRemote();
}

function historyIsLong(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS;
}

/**
 * Runs an export body and keeps its promises on the way out: a cancelled or failed export removes what it
 * stored (no half result without a manifest), and the progress query says how it ended. A completed export's
 * manifest gets `temporal.actions`, counted from the history by an activity (exact, retries and the SDK's own
 * markers included, which the workflow cannot see; it costs that one activity attempt, counted too).
 */
export async function runExport(tracker: ExportTracker, body: () => Promise<ExportManifest>): Promise<ExportManifest> {
  try {
    const manifest = await body();
    if (!costCutsPatched()) return manifest;
    // Last, after the manifest's final upsert: what the export cost, as its own history shows it.
    const { actions } = await common.countTemporalActions({
      workflowId: workflowInfo().workflowId,
      runId: workflowInfo().runId,
    });
    return { ...manifest, temporal: { actions } };
  } catch (err) {
    // continue-as-new is not a failure: it surfaces as an exception that must pass through untouched.
    if (isContinueAsNew(err)) throw err;
    // Cancelled by the user, even when what surfaced is an activity that died meanwhile (its worker gone).
    const cancelled = isCancellation(err) || CancellationScope.current().consideredCancelled;
    tracker.failed(cancelled ? 'the export was cancelled' : userMessage(err), cancelled);
    await CancellationScope.nonCancellable(() => common.removeExportFiles({ workflowId: workflowInfo().workflowId }));
    throw cancelled && !isCancellation(err) ? new CancelledFailure('the export was cancelled') : err;
  }
}

function isContinueAsNew(err: unknown): boolean {
  return err instanceof ContinueAsNew;
}
