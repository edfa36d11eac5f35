import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  sleep,
  TimeoutFailure,
  type ActivityInterfaceFor,
  type ActivityOptions,
} from '@temporalio/workflow';
import { RetryState, TimeoutType } from '@temporalio/common';
import type { Timing } from '../shared/inputs';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';
import { costCutsPatched } from './patches';
import type { ExportTracker } from './tracker';

/**
 * A wait step further than this from the deadline needs no timer of its own: the activity's own timeouts and
 * retries end long before (this keeps a long export's history free of a timer per poll).
 */
export const STEP_NEEDS_NO_TIMER_MS = 3_600_000;
/** A step that starts at or past the deadline (a link refresh late in a long download) still gets this long. */
export const LATE_STEP_GRACE_MS = 30_000;

/** When an export that started at `startedAt` (ISO) must stop waiting for the vendor: EXPORTFLOW_MAX_WAIT later. */
export function exportDeadlineMs(startedAt: string, maxWaitMs: number): number {
  return Date.parse(startedAt) + maxWaitMs;
}

/** The export's deadline: its first start (carried over by continue-as-new) plus EXPORTFLOW_MAX_WAIT. */
export function exportDeadline(tracker: ExportTracker, timing: Required<Timing>): number {
  return exportDeadlineMs(tracker.progress.startedAt, timing.maxWaitMs);
}

/**
 * How long a step that starts `leftMs` before the deadline may take (its schedule-to-close, or its scope timer):
 * what is left, but at least a grace of 30 s (a quarter of EXPORTFLOW_MAX_WAIT when that is shorter), so a step
 * late in a long export still runs. `undefined` when the step needs no deadline of its own (an hour or more left).
 */
export function stepBudgetMs(leftMs: number, maxWaitMs: number): number | undefined {
  const budget = Math.max(leftMs, Math.min(LATE_STEP_GRACE_MS, Math.floor(maxWaitMs / 4)));
  return budget >= STEP_NEEDS_NO_TIMER_MS ? undefined : budget;
}

/** The budget a step's activity must keep, offered while `within` starts the step (see `proxyActivities`). */
interface BudgetOffer {
  ms: number;
  taken: boolean;
}

/**
 * One export run's EXPORTFLOW_MAX_WAIT deadline: what is left of it, the VendorTimeout that ends the export at it,
 * and the step runner that holds a create request or a status poll to it. Make one per run, right after the
 * tracker, and hand it to vendorActivities: the activities it proxies are the ones a step's budget reaches.
 */
export class ExportDeadline {
  /** Set only while `within` starts a step (synchronously); per run, not per module. */
  private offer: BudgetOffer | undefined;

  constructor(
    private readonly tracker: ExportTracker,
    private readonly timing: Required<Timing>,
  ) {}

  /** The deadline, epoch ms. */
  get at(): number {
    return exportDeadline(this.tracker, this.timing);
  }

  /** What is left of the deadline now (negative once past it). */
  leftMs(): number {
    return this.at - Date.now();
  }

  /** Whether the deadline has come. */
  passed(): boolean {
    return Date.now() >= this.at;
  }

  /** `ms`, but not past the deadline (0 once it has come): for a wait of the workflow's own. */
  capped(ms: number): number {
    return Math.min(ms, Math.max(0, this.leftMs()));
  }

  /** The final VendorTimeout of an export whose deadline came while it waited for `describeJob`. */
  timeout(describeJob: string): ApplicationFailure {
    const { vendorStatus, vendorPercent } = this.tracker.progress;
    const last = vendorStatus
      ? ` (last status "${vendorStatus}"${vendorPercent !== null ? `, ${vendorPercent}%` : ''})`
      : ' (no status)';
    return finalFailure(
      FAILURE_TYPES.timeout,
      `${describeJob} did not finish within EXPORTFLOW_MAX_WAIT (${Math.round(this.timing.maxWaitMs / 1000)}s)${last}`,
    );
  }

  /**
   * Runs one step of waiting for the vendor (a create request, a status poll) but not past EXPORTFLOW_MAX_WAIT:
   * a vendor that never answers, or a Retry-After of an hour, would otherwise keep the activity and its retries
   * going long after the deadline. At the deadline the step is cancelled and the export fails with VendorTimeout.
   * Since the release patch the budget travels with the step's activity as its schedule-to-close timeout (no
   * timer); older runs replay the scope timer they recorded.
   */
  async within<T>(describeJob: string, step: () => Promise<T>): Promise<T> {
    const budget = stepBudgetMs(this.leftMs(), this.timing.maxWaitMs);
    if (budget === undefined) return step();
    if (costCutsPatched()) return this.onActivity(describeJob, budget, step);
    try {
      return await CancellationScope.withTimeout(budget, step);
    } catch (err) {
      // Cancelled by our timer, not by the user (who cancels the workflow's root scope).
      if (isCancellation(err) && !CancellationScope.current().consideredCancelled) throw this.timeout(describeJob);
      throw err;
    }
  }

  /**
   * proxyActivities whose calls take the deadline `within` offers: an activity scheduled while a step starts
   * gets the step's budget as its schedule-to-close timeout; other calls use `options` as they are.
   */
  proxyActivities<A extends object>(options: ActivityOptions): ActivityInterfaceFor<A> {
    const plain = proxyActivities<A>(options);
    return new Proxy(plain, {
      get: (target, name, receiver) => {
        const fn = Reflect.get(target, name, receiver) as unknown;
        if (typeof fn !== 'function' || typeof name !== 'string') return fn;
        return (...args: unknown[]) => {
          const offer = this.offer;
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

  private async onActivity<T>(describeJob: string, budget: number, step: () => Promise<T>): Promise<T> {
    const scope = new CancellationScope({ cancellable: true });
    const offer = { ms: budget, taken: false };
    this.offer = offer;
    let running: Promise<T>;
    try {
      // A step schedules its activity synchronously, before its first await, so the offer reaches that activity.
      running = scope.run(step);
    } finally {
      this.offer = undefined;
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
      if (offer.taken && isDeadlineExpiry(err)) throw this.timeout(describeJob);
      if (timer && isCancellation(err) && !CancellationScope.current().consideredCancelled) {
        throw this.timeout(describeJob);
      }
      throw err;
    } finally {
      if (timer && !timer.consideredCancelled) timer.cancel();
    }
  }
}

/** An activity the server ended at its schedule-to-close timeout, or whose next retry would have passed it. */
function isDeadlineExpiry(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  if (err.retryState === RetryState.TIMEOUT) return true;
  return err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_CLOSE;
}
