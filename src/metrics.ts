import type { MetricMeter } from '@temporalio/common';
import { setVendorObserver } from './providers/observe';
import { METRIC_NAMES } from './shared/metric-names';

export { METRIC_NAMES };

/** Wires the providers' HTTP/byte observations to counters on the runtime's meter. */
export function installVendorMetrics(meter: MetricMeter): void {
  const http = meter.createCounter(
    METRIC_NAMES.http,
    '1',
    'vendor HTTP answers by vendor, endpoint and status (0 = no answer)',
  );
  const bytes = meter.createCounter(METRIC_NAMES.bytes, 'By', 'bytes downloaded from vendors and stored');
  setVendorObserver({
    httpStatus: (vendor, endpoint, status) => http.add(1, { vendor, endpoint, status: String(status) }),
    bytesStored: (vendor, n) => {
      if (n > 0) bytes.add(n, { vendor });
    },
  });
}
