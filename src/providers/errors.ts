import type { FailureType } from '../shared/failure-types';
import { VENDOR_NAMES, type Vendor } from '../shared/vendors';

/**
 * Errors classified once where the HTTP answer is read: retryable ones are worth another
 * attempt (network, 5xx, 429); final ones are not (bad token, bad input, unknown id, vendor said "failed").
 * Messages name the vendor and endpoint and never carry a credential.
 */
export { VENDOR_NAMES, type Vendor };

/**
 * An error classified once where it is read (a vendor answer, a download, a storage write): the failure type
 * Temporal will report and whether another attempt can help. Activities turn it into an ApplicationFailure.
 */
export class ClassifiedError extends Error {
  override name = 'ClassifiedError';
  constructor(
    readonly type: FailureType,
    message: string,
    readonly retryable: boolean,
    readonly details: {
      vendor?: Vendor;
      endpoint?: string;
      status?: number;
      retryAfterMs?: number;
      /** A quota block: epoch ms when the vendor takes calls again (the workflow waits until then). */
      resetAt?: number;
    } = {},
  ) {
    super(message);
  }
}

/** Where a vendor call went, for messages: `Altcraft tasks/status`. */
export function where(vendor: Vendor, endpoint: string): string {
  return `${VENDOR_NAMES[vendor]} ${endpoint}`;
}

/** Parses Retry-After (seconds or an HTTP date) into ms, capped so a hostile value cannot park us for days. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const capMs = 3_600_000;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.min(Math.round(Number(text) * 1000), capMs);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - nowMs), capMs);
}

/** Removes credentials that some vendors accept in query strings, before a URL is put in a message or log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const key of [...u.searchParams.keys()]) {
      if (/token|secret|signature|key|auth|password/i.test(key)) u.searchParams.set(key, '***');
    }
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/([?&](?:token|secret|signature|key|auth|password)[^=]*=)[^&]*/gi, '$1***');
  }
}

/** Shortens a response body for an error message (an HTML error page is shown as its first words). */
export function snippet(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
