import { accountName } from '../shared/accounts';

/**
 * A hook through which vendor HTTP answers and download bytes become metrics, and vendor calls become spans,
 * without the provider clients depending on Temporal, a metrics library or OpenTelemetry. The worker installs
 * the observer (and the tracing module the spanner, when tracing is on); elsewhere both are no-ops.
 */
export interface VendorObserver {
  /** Every vendor HTTP answer, API calls and downloads alike; `account` as accountName gives it. */
  httpStatus(vendor: string, endpoint: string, status: number, account: string): void;
  bytesStored(vendor: string, bytes: number): void;
  /** One vendor call's latency (until its answer was read, or it failed) and status (0 = no answer). */
  callTimed?(call: VendorCallInfo, status: number, ms: number): void;
}

/** What a metric or span says about a vendor call. */
export interface VendorCallInfo {
  vendor: string;
  endpoint: string;
  /** The named vendor account (docs/accounts-and-quotas.md); a call that names none (a download reported without one) is `default` (accountName). */
  account: string;
}

/** Runs one vendor call inside a span named after it; installed by src/telemetry when tracing is on. */
export type VendorSpanner = <T extends { status: number }>(info: VendorCallInfo, call: () => Promise<T>) => Promise<T>;

let observer: VendorObserver | null = null;
let spanner: VendorSpanner | null = null;

export function setVendorObserver(next: VendorObserver | null): void {
  observer = next;
}

export function setVendorSpanner(next: VendorSpanner | null): void {
  spanner = next;
}

/** Records one vendor HTTP answer; status 0 means no answer (network error). */
export function observeHttp(vendor: string, endpoint: string, status: number, account?: string): void {
  observer?.httpStatus(vendor, endpoint, status, accountName(account));
}

/** Records one vendor call's latency in milliseconds with its status (0 = no answer). */
export function observeCallTime(call: VendorCallInfo, status: number, ms: number): void {
  observer?.callTimed?.(call, status, ms);
}

export function observeBytes(vendor: string, bytes: number): void {
  observer?.bytesStored(vendor, bytes);
}

/** Runs a vendor call in its own span when tracing is on; otherwise just runs it. */
export function inVendorSpan<T extends { status: number }>(info: VendorCallInfo, call: () => Promise<T>): Promise<T> {
  return spanner ? spanner(info, call) : call();
}
