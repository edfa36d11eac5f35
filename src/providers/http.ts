import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { accountName } from '../shared/accounts';
import { inVendorSpan, observeCallTime, observeHttp } from './observe';
import { FAILURE_TYPES } from '../shared/failure-types';
import { ClassifiedError, parseRetryAfter, snippet, where, type Vendor } from './errors';
import { quotaResetOf } from './quota-reset';

/** One connection pool for vendor API calls; timeouts keep a silent vendor from hanging an activity. */
export const apiAgent = new Agent({
  connectTimeout: 15_000,
  headersTimeout: 60_000,
  bodyTimeout: 60_000,
  keepAliveTimeout: 10_000,
});

const MAX_JSON_BYTES = 4 * 1024 * 1024;

export interface VendorCall {
  vendor: Vendor;
  endpoint: string;
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Statuses the caller interprets itself (e.g. APSIS 404 = not ready); others are classified here. */
  accept?: readonly number[];
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  /** The named vendor account the call is made for, as metrics and spans label it (default: `default`). */
  account?: string;
}

export interface VendorAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Sends one API call and returns its status and (bounded) body text; throws a classified ClassifiedError otherwise. */
export async function callVendor(call: VendorCall): Promise<VendorAnswer> {
  const info = { vendor: call.vendor, endpoint: call.endpoint, account: accountName(call.account) };
  const seen = { status: 0 };
  const started = performance.now();
  try {
    return await inVendorSpan(info, () => sendVendorCall(call, seen));
  } finally {
    observeCallTime(info, seen.status, performance.now() - started);
  }
}

async function sendVendorCall(call: VendorCall, seen: { status: number }): Promise<VendorAnswer> {
  const at = where(call.vendor, call.endpoint);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal: call.signal,
      dispatcher: call.dispatcher ?? apiAgent,
    });
  } catch (err) {
    observeHttp(call.vendor, call.endpoint, 0, call.account);
    throw networkError(at, call.vendor, call.endpoint, err);
  }
  observeHttp(call.vendor, call.endpoint, res.statusCode, call.account);
  seen.status = res.statusCode;
  let text: string;
  try {
    text = await readBounded(res.body, MAX_JSON_BYTES);
  } catch (err) {
    throw networkError(at, call.vendor, call.endpoint, err);
  }
  const answer: VendorAnswer = { status: res.statusCode, headers: res.headers, text };
  if (call.accept?.includes(res.statusCode)) return answer;
  if (res.statusCode >= 200 && res.statusCode < 300) return answer;
  throw statusError(call.vendor, call.endpoint, answer);
}

/** Maps an HTTP status to its error class: 5xx, 408 and 429 are retryable; 401/403 and other 4xx are final. */
export function statusError(vendor: Vendor, endpoint: string, answer: VendorAnswer): ClassifiedError {
  const at = where(vendor, endpoint);
  const { status } = answer;
  const said = answer.text ? `: ${snippet(answer.text)}` : '';
  const details = { vendor, endpoint, status };
  if (status === 401 || status === 403) {
    return new ClassifiedError(
      FAILURE_TYPES.auth,
      `${at} rejected the credentials (HTTP ${status})${said}`,
      false,
      details,
    );
  }
  if (status === 429) {
    const block = quotaResetOf(answer.headers, answer.text);
    // An API call refused until a documented time is a quota block: not retried by the activity (each retry
    // would spend the vendor's error budget; myTracker blocks a user after ~60 erroneous requests a minute), but
    // waited out by the workflow (src/workflows/quota-wait.ts). A download just waits for its next attempt.
    if (block && endpoint !== 'download') {
      return new ClassifiedError(
        FAILURE_TYPES.rateLimited,
        `${at} refuses calls over the vendor's quota until ${new Date(block.resetAt).toISOString()} (HTTP 429, ${block.source})${said}`,
        false,
        { ...details, resetAt: block.resetAt },
      );
    }
    const retryAfterMs = block ? Math.min(block.resetAt - Date.now(), 3_600_000) : undefined;
    return new ClassifiedError(FAILURE_TYPES.rateLimited, `${at} is rate limiting us (HTTP 429)${said}`, true, {
      ...details,
      retryAfterMs,
    });
  }
  if (status >= 500 || status === 408) {
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after']);
    return new ClassifiedError(
      FAILURE_TYPES.unavailable,
      `${at} failed on the vendor side (HTTP ${status})${said}`,
      true,
      {
        ...details,
        retryAfterMs,
      },
    );
  }
  return new ClassifiedError(
    FAILURE_TYPES.request,
    `${at} rejected the request (HTTP ${status})${said}`,
    false,
    details,
  );
}

export function networkError(at: string, vendor: Vendor, endpoint: string, err: unknown): ClassifiedError {
  if (err instanceof ClassifiedError) return err;
  const e = err as { code?: string; message?: string; name?: string };
  if (e?.name === 'AbortError' || err instanceof undiciErrors.RequestAbortedError) {
    return new ClassifiedError(FAILURE_TYPES.unavailable, `${at} call was aborted`, true, { vendor, endpoint });
  }
  const reason = e?.code ? `${e.code}${e.message ? ` (${e.message})` : ''}` : (e?.message ?? String(err));
  return new ClassifiedError(FAILURE_TYPES.unavailable, `${at} could not be reached: ${reason}`, true, {
    vendor,
    endpoint,
  });
}

/** Parses a JSON answer with its schema; anything else is a typed VendorResponseError naming what was seen. */
export function parseVendorJson<S extends z.ZodType>(
  vendor: Vendor,
  endpoint: string,
  answer: VendorAnswer,
  schema: S,
): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    const kind = /^\s*</.test(answer.text) ? 'an HTML/XML page' : 'something that is not JSON';
    throw new ClassifiedError(
      FAILURE_TYPES.response,
      `${where(vendor, endpoint)} answered HTTP ${answer.status} with ${kind} instead of JSON: "${snippet(answer.text, 120)}"`,
      false,
      { vendor, endpoint, status: answer.status },
    );
  }
  return checkShape(vendor, endpoint, json, schema, answer.status);
}

/** Validates an already-parsed vendor value; a mismatch is a typed VendorResponseError naming the fields. */
export function checkShape<S extends z.ZodType>(
  vendor: Vendor,
  endpoint: string,
  value: unknown,
  schema: S,
  status = 200,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new ClassifiedError(
      FAILURE_TYPES.response,
      `${where(vendor, endpoint)} answered with an unexpected shape (${issues}): ${snippet(JSON.stringify(value) ?? '', 120)}`,
      false,
      { vendor, endpoint, status },
    );
  }
  return parsed.data;
}

async function readBounded(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.destroy();
      throw new Error(`response body larger than ${max} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
