import { createHmac } from 'node:crypto';

/**
 * myTracker request signing (the vendor's authentication page, docs/vendors/mytracker.md): `Authorization: AuthHMAC <userId>:<signature>` where
 * signature = base64(HMAC-SHA1(secret, METHOD & urlencode(full URL with query) & urlencode(body))).
 * Written from the spec alone; the simulator has its own implementation, so the two check each other.
 */

export interface MyTrackerCredentials {
  userId: string;
  secret: string;
}

/**
 * Form encoding as the vendor's baseline needs it: letters, digits and `_.-~` stay, space becomes `+`,
 * every other UTF-8 byte becomes upper-case `%XX`. encodeURIComponent already escapes all but `!'()*`
 * (and emits upper-case hex); those five are finished off here.
 */
export function urlencode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** The string that is signed: `METHOD&urlencode(url)&urlencode(body)`. */
export function signatureBaseline(method: string, url: string, body = ''): string {
  return [method.toUpperCase(), urlencode(url), urlencode(body)].join('&');
}

/** base64(HMAC-SHA1(secret, baseline)). */
export function signBaseline(secret: string, baseline: string): string {
  return createHmac('sha1', Buffer.from(secret, 'utf8')).update(Buffer.from(baseline, 'utf8')).digest('base64');
}

/**
 * The Authorization header for one request: an API call, or a file link. The vendor's Python client
 * (`mytracker-export-api`) fetches the links get.json lists with the same header, signed over the link as given
 * (`GET&urlencode(link)&`, empty body), wherever the link points; exportflow does so only after the storage host
 * refused the link unsigned (401/403), since today's links work unsigned. `url` must be exactly the URL sent on
 * the wire (build it with `new URL(...).toString()` so nothing re-encodes it afterwards). The result is a
 * credential: never log it. It holds the user id and the signature; the secret never leaves the worker.
 */
export function authorizationHeader(creds: MyTrackerCredentials, method: string, url: string, body = ''): string {
  return `AuthHMAC ${creds.userId}:${signBaseline(creds.secret, signatureBaseline(method, url, body))}`;
}
