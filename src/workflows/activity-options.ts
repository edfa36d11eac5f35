import {
  ActivityCancellationType,
  workflowInfo,
  type ActivityInterfaceFor,
  type ActivityOptions,
} from '@temporalio/workflow';
import { releasePatched } from './patches';
import type { Duration } from '@temporalio/common';
import { DEFAULT_ACCOUNT, type Timing } from '../shared/inputs';
import type { ExportDeadline } from './deadline';
import { downloadsTaskQueue, vendorTaskQueue } from '../shared/contract';
import { type Vendor } from '../shared/vendors';

export interface VendorActivityTuning {
  /** How long one vendor API call may take. */
  callTimeout: Duration;
  /** First retry delay of a failed vendor call. */
  callInitialInterval: Duration;
  /** How long one streaming activity (download, or a poll that may stream the file) may take. */
  streamTimeout: Duration;
  /** Attempts of a streaming activity before the export gives up on it. */
  streamAttempts: number;
  /**
   * The vendor account the export runs against: every vendor call carries it as its fairness key, so the
   * server's per-key rate limit holds each account to its own quota (src/quota/task-queue-config.ts).
   */
  account?: string;
  /** The stream activities fetch storage links that spend no API quota: run them on the downloads queue. */
  downloadsOffQuota?: boolean;
}

/** The vendor's activity task queue beside this workflow's own queue. */
export function vendorQueue(vendor: Vendor): string {
  return vendorTaskQueue(workflowInfo().taskQueue, vendor);
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

/**
 * The three kinds of vendor activity every export runs, on the vendor's task queue:
 * - `call`: one vendor API call per attempt; final errors are non-retryable, so the retries only cover
 *   network faults, 5xx and 429; it heartbeats while it waits, so a dead worker's call moves on quickly;
 * - `create`: the same, with a longer heartbeat leash, since a create taken for dead while it still works
 *   would leave a second vendor job;
 * - `stream`: long downloads that heartbeat their progress and resume on retry.
 * Cancelled activities are waited for, so an export ends (and cleans up) only once none of them still runs.
 * All three are proxied by the run's `deadline`, so a step it runs (ExportDeadline.within) holds them to it.
 * Every call carries the export's `account` (its name only) when it is not `default`, so the worker resolves that
 * account's credentials; calls for `default` stay exactly as recorded histories hold them.
 */
export function vendorActivities<A extends object>(
  vendor: Vendor,
  timing: Required<Timing>,
  tuning: VendorActivityTuning,
  deadline: ExportDeadline,
): { call: ActivityInterfaceFor<A>; create: ActivityInterfaceFor<A>; stream: ActivityInterfaceFor<A> } {
  // New commands' options (fairness key, downloads queue) only for runs that started with this code.
  const fair = tuning.account !== undefined && releasePatched();
  const priority = fair ? { priority: { fairnessKey: fairnessKeyOf(tuning.account!) } } : {};
  const offQuota = tuning.downloadsOffQuota === true && releasePatched();
  const account = tuning.account ?? DEFAULT_ACCOUNT;
  const call: ActivityOptions = {
    taskQueue: vendorQueue(vendor),
    ...priority,
    startToCloseTimeout: tuning.callTimeout,
    heartbeatTimeout: timing.heartbeatTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: tuning.callInitialInterval,
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: 6,
    },
  };
  const named = <T extends object>(activities: T): T => withAccount(activities, account);
  return {
    call: named(deadline.proxyActivities<A>(call)),
    create: named(deadline.proxyActivities<A>({ ...call, heartbeatTimeout: createHeartbeatTimeoutMs(timing) })),
    stream: named(
      deadline.proxyActivities<A>({
        taskQueue: offQuota ? downloadsTaskQueue(workflowInfo().taskQueue) : vendorQueue(vendor),
        ...(offQuota ? {} : priority),
        startToCloseTimeout: tuning.streamTimeout,
        heartbeatTimeout: timing.heartbeatTimeoutMs,
        cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        retry: {
          initialInterval: '2s',
          backoffCoefficient: 2,
          maximumInterval: '1m',
          maximumAttempts: tuning.streamAttempts,
        },
      }),
    ),
  };
}

/** The fairness key of an account: its name in lower case, as the worker's per-key config names it. */
export function fairnessKeyOf(account: string): string {
  return account.toLowerCase();
}

/** Adds `account` to the (object) input of every call made through `activities`; `default` adds nothing. */
export function withAccount<T extends object>(activities: T, account: string): T {
  if (account === DEFAULT_ACCOUNT) return activities;
  return new Proxy(activities, {
    get(target, name) {
      const activity = Reflect.get(target, name) as unknown;
      if (typeof activity !== 'function') return activity;
      return (input: unknown, ...rest: unknown[]) =>
        (activity as (...args: unknown[]) => unknown)(
          typeof input === 'object' && input !== null ? { ...input, account } : input,
          ...rest,
        );
    },
  });
}
