import type { MetricMeter } from '@temporalio/common';
import { setVendorObserver } from '../providers/observe';
import { METRIC_NAMES } from '../shared/metric-names';

export { METRIC_NAMES };

/**
 * Bucket bounds (ms) of the vendor call latency histogram: vendor APIs answer in tens of milliseconds to tens of
 * seconds (a slow export create), and the API agent gives up after 60 s without headers.
 */
export const VENDOR_CALL_BUCKETS_MS = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];

/** Wires the providers' HTTP/byte/latency observations to metrics on the runtime's meter. */
export function installVendorMetrics(meter: MetricMeter): void {
  const http = meter.createCounter(
    METRIC_NAMES.http,
    '1',
    'vendor HTTP answers by vendor, endpoint and status (0 = no answer)',
  );
  const bytes = meter.createCounter(METRIC_NAMES.bytes, 'By', 'bytes downloaded from vendors and stored');
  const latency = meter.createHistogram(
    METRIC_NAMES.callDuration,
    'float',
    'ms',
    'vendor API call latency (until the answer was read) by vendor, account, endpoint and status class',
  );
  const rateLimited = meter.createCounter(
    METRIC_NAMES.rateLimited,
    '1',
    'vendor answers HTTP 429 (rate limited), API calls and downloads, by vendor and account',
  );
  setVendorObserver({
    httpStatus: (vendor, endpoint, status, account) => {
      http.add(1, { vendor, endpoint, status: String(status) });
      // Counted here, not per API call, so a download's 429 counts too.
      if (status === 429) rateLimited.add(1, { vendor, account });
    },
    bytesStored: (vendor, n) => {
      if (n > 0) bytes.add(n, { vendor });
    },
    callTimed: (call, status, ms) => {
      latency.record(ms, {
        vendor: call.vendor,
        account: call.account,
        endpoint: call.endpoint,
        status_class: statusClass(status),
      });
    },
  });
}

/** `2xx`, `4xx`, `5xx`…, or `none` for a call that got no answer: a few label values, not one per status. */
export function statusClass(status: number): string {
  return status > 0 ? `${Math.floor(status / 100)}xx` : 'none';
}
