/**
 * myTracker request signing, written from the vendor's authentication page (not shared with the real client, so a misreading on
 * either side shows up). The per-user quotas are src/simulator/quotas.ts.
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
