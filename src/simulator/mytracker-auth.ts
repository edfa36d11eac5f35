/**
 * myTracker request signing, written from the vendor's authentication page (not shared with the real client, so a misreading on
 * either side shows up), and the per-user request quota.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const UNRESERVED = /[A-Za-z0-9_.~-]/;

/** Form encoding: only letters, digits and `_.-~` stay; space -> '+'; every other UTF-8 byte -> %XX upper-case. */
export function mytrackerUrlencode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && UNRESERVED.test(ch)) out += ch;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** baseline = METHOD & urlencode(full URL with query) & urlencode(body). */
export function mytrackerBaseline(method: string, fullUrl: string, body: string): string {
  return `${method.toUpperCase()}&${mytrackerUrlencode(fullUrl)}&${mytrackerUrlencode(body)}`;
}

/** base64(HMAC-SHA1(secret, baseline)). */
export function mytrackerSignature(secret: string, baseline: string): string {
  return createHmac('sha1', secret).update(baseline, 'utf8').digest('base64');
}

/** The Authorization header value a correct client sends. */
export function mytrackerAuthorization(
  userId: string,
  secret: string,
  method: string,
  fullUrl: string,
  body = '',
): string {
  return `AuthHMAC ${userId}:${mytrackerSignature(secret, mytrackerBaseline(method, fullUrl, body))}`;
}

/** Checks `Authorization: AuthHMAC <userId>:<signature>` against the request as received. */
export function verifyMytrackerAuthorization(
  header: string | undefined,
  expected: { userId: string; secret: string },
  method: string,
  fullUrl: string,
  body: string,
): boolean {
  const m = header ? /^AuthHMAC\s+([^:\s]+):(\S+)$/.exec(header) : null;
  if (!m || m[1] !== expected.userId || m[2] === undefined) return false;
  const want = Buffer.from(mytrackerSignature(expected.secret, mytrackerBaseline(method, fullUrl, body)));
  const got = Buffer.from(m[2]);
  return want.length === got.length && timingSafeEqual(want, got);
}

export interface QuotaLimits {
  perSecond: number;
  perMinute: number;
  perHour: number;
}

/** Sliding-window request counter per API user; only accepted requests count against the quota. */
export class Quota {
  private seen = new Map<string, number[]>();

  /** Records the request and returns 0, or returns the seconds to wait (Retry-After) without recording it. */
  check(user: string, limits: QuotaLimits, now = Date.now()): number {
    const times = (this.seen.get(user) ?? []).filter((t) => now - t < 3_600_000);
    const windows: Array<[number, number]> = [
      [1000, limits.perSecond],
      [60_000, limits.perMinute],
      [3_600_000, limits.perHour],
    ];
    let wait = 0;
    for (const [span, limit] of windows) {
      const inWindow = times.filter((t) => now - t < span);
      if (inWindow.length >= limit) {
        const oldest = inWindow[inWindow.length - limit] ?? now;
        wait = Math.max(wait, oldest + span - now);
      }
    }
    if (wait > 0) {
      this.seen.set(user, times);
      return Math.max(1, Math.ceil(wait / 1000));
    }
    times.push(now);
    this.seen.set(user, times);
    return 0;
  }

  /** Requests of `user` accepted within the last `spanMs`. */
  count(user: string, spanMs: number, now = Date.now()): number {
    return (this.seen.get(user) ?? []).filter((t) => now - t < spanMs).length;
  }

  reset(): void {
    this.seen.clear();
  }
}
