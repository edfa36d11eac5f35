/**
 * A hook through which vendor HTTP answers and download bytes become metrics, without the provider clients
 * depending on Temporal or a metrics library. The worker installs the observer; elsewhere it is a no-op.
 */
export interface VendorObserver {
  httpStatus(vendor: string, endpoint: string, status: number): void;
  bytesStored(vendor: string, bytes: number): void;
}

let observer: VendorObserver | null = null;

export function setVendorObserver(next: VendorObserver | null): void {
  observer = next;
}

/** Records one vendor HTTP answer; status 0 means no answer (network error). */
export function observeHttp(vendor: string, endpoint: string, status: number): void {
  observer?.httpStatus(vendor, endpoint, status);
}

export function observeBytes(vendor: string, bytes: number): void {
  observer?.bytesStored(vendor, bytes);
}
