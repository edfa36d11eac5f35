import { ActivityCancellationType, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Timing } from '../shared/inputs';
import { createHeartbeatTimeoutMs, proxyStepActivities, vendorQueue } from './steps';

export interface VendorActivityTuning {
  /** How long one vendor API call may take. */
  callTimeout: Duration;
  /** First retry delay of a failed vendor call. */
  callInitialInterval: Duration;
  /** How long one streaming activity (download, or a poll that may stream the file) may take. */
  streamTimeout: Duration;
  /** Attempts of a streaming activity before the export gives up on it. */
  streamAttempts: number;
}

/**
 * The three kinds of vendor activity every export runs, on the vendor's task queue:
 * - `call`: one vendor API call per attempt; final errors are non-retryable, so the retries only cover
 *   network faults, 5xx and 429; it heartbeats while it waits, so a dead worker's call moves on quickly;
 * - `create`: the same, with a longer heartbeat leash, since a create taken for dead while it still works
 *   would leave a second vendor job;
 * - `stream`: long downloads that heartbeat their progress and resume on retry.
 * Cancelled activities are waited for, so an export ends (and cleans up) only once none of them still runs.
 */
export function vendorActivities<A extends object>(
  vendor: 'altcraft' | 'apsis' | 'mytracker',
  timing: Required<Timing>,
  tuning: VendorActivityTuning,
): { call: ActivityInterfaceFor<A>; create: ActivityInterfaceFor<A>; stream: ActivityInterfaceFor<A> } {
  const call: ActivityOptions = {
    taskQueue: vendorQueue(vendor),
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
  return {
    call: proxyStepActivities<A>(call),
    create: proxyStepActivities<A>({ ...call, heartbeatTimeout: createHeartbeatTimeoutMs(timing) }),
    stream: proxyStepActivities<A>({
      taskQueue: vendorQueue(vendor),
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
  };
}
