import type { Attributes, AttributeValue } from '@opentelemetry/api';

/**
 * Redaction of everything that leaves the process in a span. Vendor and storage URLs carry credentials in their
 * query (Altcraft's `?token=` download form, pre-signed storage links with `X-Amz-Signature`/`X-Amz-Credential`)
 * or path (myTracker's capability links), so every URL keeps its scheme, host and readable path but not its user
 * info, fragment, capability-like path parts or query values; header-style credentials (`Bearer …`, `AuthHMAC user:signature`) lose their value; attributes whose
 * name says secret lose their value; and structured values (the workflow's memo and search attributes, which the
 * workflow span exporter copies in) are dropped, since nothing here can vouch for them.
 */
export const REDACTED = 'REDACTED';

const SECRET_KEY = /(token|secret|password|passwd|authorization|signature|credential|api[-_.]?key|cookie)/i;
const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>]+/gi;
const AUTH_SCHEME = /\b(Bearer|Basic|AuthHMAC|Token)\s+[^\s,;"']+/gi;
const QUERY_KEYS = /(?:^|\.)(query|target)$/;

/** `a=1&b=2` with every value replaced; parameter names stay, they help reading a trace. */
export function redactQuery(query: string): string {
  const q = query.startsWith('?') ? query.slice(1) : query;
  if (q === '') return query;
  const parts = q.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    return `${name}=${REDACTED}`;
  });
  return `${query.startsWith('?') ? '?' : ''}${parts.join('&')}`;
}

/**
 * Path parts that look like a capability: a run of 16+ letters, digits, `-` or `_` holding both a letter and a
 * digit (a hash, a UUID, a key id). myTracker's storage links are capability URLs (`/segment/<day>/<id>.<n>.
 * <md5>.csv.gz`: the hash is the credential), so such runs go; readable paths like `/api/v1.1/tasks/status` stay.
 */
const CAPABILITY = /[A-Za-z0-9_-]{16,}/g;

function redactPath(path: string): string {
  return path.replace(CAPABILITY, (run) => (/[0-9]/.test(run) && /[A-Za-z]/.test(run) ? REDACTED : run));
}

/** A URL (absolute, or a path with a query) without user info, fragment, capability-like path parts or query values. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    url.hash = '';
    const query = url.search;
    url.search = '';
    url.pathname = redactPath(url.pathname);
    return `${url.toString()}${query ? redactQuery(query) : ''}`;
  } catch {
    // A relative target (`/path?x=1`) or something not a URL at all: cut at the first `?` or `#`.
    const cut = raw.search(/[?#]/);
    if (cut < 0) return redactPath(raw);
    const rest = raw.slice(cut);
    const query = rest.startsWith('?') ? rest.split('#')[0]! : '';
    return `${redactPath(raw.slice(0, cut))}${query ? redactQuery(query) : ''}`;
  }
}

/** Free text (an error message, a status description) with every URL redacted and auth header values removed. */
export function scrubText(text: string): string {
  return text
    .replace(URL_IN_TEXT, (u) => redactUrl(u))
    .replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`);
}

function redactValue(key: string, value: string): string {
  if (SECRET_KEY.test(key)) return REDACTED;
  if (QUERY_KEYS.test(key)) return key.endsWith('query') ? redactQuery(value) : redactUrl(value);
  if (/^(https?:\/\/|\/)/i.test(value)) return scrubText(redactUrl(value));
  return scrubText(value);
}

function isPrimitive(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** Redacts span or event attributes in place (the SDK hands the processor its own object). */
export function redactAttributes(attributes: Attributes): void {
  for (const key of Object.keys(attributes)) {
    const value: unknown = attributes[key];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') attributes[key] = redactValue(key, value);
    else if (isPrimitive(value)) continue;
    else if (value instanceof Date) attributes[key] = value.toISOString();
    else if (Array.isArray(value) && value.every((v) => v === null || v === undefined || isPrimitive(v))) {
      attributes[key] = value.map((v) => (typeof v === 'string' ? redactValue(key, v) : v)) as AttributeValue;
    } else delete attributes[key];
  }
}

/** The parts of a finished span that can carry text; a structural subset of the SDK's ReadableSpan. */
export interface RedactableSpan {
  readonly attributes: Attributes;
  readonly events: readonly { attributes?: Attributes }[];
  readonly status: { message?: string };
}

/** Redacts one finished span in place: its attributes, its events' attributes and its status message. */
export function redactSpan(span: RedactableSpan): void {
  redactAttributes(span.attributes);
  for (const event of span.events) if (event.attributes) redactAttributes(event.attributes);
  if (span.status.message) span.status.message = scrubText(span.status.message);
}
