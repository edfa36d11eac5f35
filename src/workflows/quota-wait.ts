import { ActivityFailure, ApplicationFailure, metricMeter, sleep } from '@temporalio/workflow';
import { releasePatched } from './patches';
import type { Timing } from '../shared/inputs';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';
import { METRIC_NAMES } from '../shared/metric-names';
import { exportDeadline } from './deadline';
import { inWorkflowSpan } from './trace-span';
import type { ExportTracker } from './tracker';
import { VENDOR_NAMES, type Vendor } from '../shared/vendors';

/** Added to the vendor's reset so a fleet of waiting exports does not call back in the same second. */
const MAX_JITTER_MS = 5_000;
const MIN_JITTER_MS = 1_000;

export interface QuotaScope {
  tracker: ExportTracker;
  timing: Required<Timing>;
  vendor: Vendor;
  account: string;
}

/**
 * Runs one vendor step (a create call, a status poll, a link refresh); when the vendor refuses it over its
 * quota with a documented reset (the activity fails `VendorRateLimited`, not retried, with `resetAt` in its
 * details), waits on a durable timer until the reset plus 1–5 s jitter, with no vendor call in between, then runs
 * the step again. The export's status says `waiting for the vendor's quota until 14:03 UTC` meanwhile, and the
 * wait is recorded in the `exportflow_vendor_quota_wait` histogram (seconds, by vendor and account) from the
 * workflow's own metric meter. A reset after EXPORTFLOW_MAX_WAIT's deadline fails the export as VendorTimeout.
 */
export async function withQuotaWait<T>(scope: QuotaScope, step: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await step();
    } catch (err) {
      const resetAt = quotaResetAt(err);
      if (resetAt === undefined || !releasePatched()) throw err;
      await waitForQuota(scope, resetAt);
    }
  }
}

/** The reset time of a quota block, or undefined for any other failure. */
export function quotaResetAt(err: unknown): number | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure) || cause.type !== FAILURE_TYPES.rateLimited || !cause.nonRetryable) {
    return undefined;
  }
  const details = cause.details?.[0] as { resetAt?: unknown } | undefined;
  return typeof details?.resetAt === 'number' && Number.isFinite(details.resetAt) ? details.resetAt : undefined;
}

async function waitForQuota(scope: QuotaScope, resetAt: number): Promise<void> {
  const { tracker, timing, vendor, account } = scope;
  const now = Date.now();
  const until = Math.max(resetAt, now) + MIN_JITTER_MS + Math.floor(Math.random() * (MAX_JITTER_MS - MIN_JITTER_MS));
  const deadline = exportDeadline(tracker, timing);
  if (until > deadline) {
    throw finalFailure(
      FAILURE_TYPES.timeout,
      `${VENDOR_NAMES[vendor]} refuses calls over its quota (account ${account}) until ${utcTime(resetAt)}, ` +
        `after this export's EXPORTFLOW_MAX_WAIT deadline (${utcTime(deadline)}); start it again after the reset ` +
        'or raise EXPORTFLOW_MAX_WAIT',
    );
  }
  const before = tracker.progress.vendorStatus;
  tracker.waitingFor(`waiting for the vendor's quota until ${utcTime(until)}`);
  // A span of its own, so a trace shows the time spent waiting on the vendor's quota.
  await inWorkflowSpan('wait quota', { 'exportflow.vendor': vendor, 'exportflow.account': account }, () =>
    sleep(until - now),
  );
  metricMeter
    .createHistogram(METRIC_NAMES.quotaWait, 'float', 's', "time exports waited for a vendor's quota to reset")
    .record((until - now) / 1000, { vendor, account });
  tracker.waitingFor(before ?? 'quota reset, calling again');
}

/** `14:03 UTC`, or `2026-12-07 14:03 UTC` when not today. */
function utcTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  const sameDay = iso.slice(0, 10) === new Date().toISOString().slice(0, 10);
  return `${sameDay ? '' : `${iso.slice(0, 10)} `}${iso.slice(11, 16)} UTC`;
}
