import { z } from 'zod';

/**
 * When a vendor's 429 says its quota opens again. Sources, first that answers wins:
 * - myTracker's documented body `{"code":429,"data":{"error":{"info":{"quotas":[{"name":…,"resetTime":<unix s>,
 *   "resetInSecond":<n>,"exceeded":true}]}}}}`: the latest reset among the exceeded quotas (all of them when
 *   none says `exceeded`), since a call before it would be refused again;
 * - `Retry-After` (seconds or an HTTP date);
 * - `RateLimit-Reset` / `X-RateLimit-Reset` / `X-Rate-Limit-Reset` (seconds from now, or a unix time when large).
 * Returns the reset as epoch ms, or undefined when the answer names none (then the 429 stays an ordinary
 * retryable error). Resets are capped at a day, so a hostile value cannot park an export forever.
 */
const MAX_RESET_MS = 24 * 3_600_000;

const QuotaEntry = z.object({
  name: z.string().optional(),
  resetTime: z.coerce.number().optional(),
  resetInSecond: z.coerce.number().optional(),
  exceeded: z.boolean().optional(),
});
const MyTrackerQuotaBody = z.object({
  data: z.object({ error: z.object({ info: z.object({ quotas: z.array(QuotaEntry).min(1) }) }) }),
});

export interface QuotaReset {
  /** Epoch ms when calls may go again. */
  resetAt: number;
  /** Where it was read, for messages: `resetInSecond of RequestsByUserPerMinute`, `Retry-After`. */
  source: string;
}

type Headers = Record<string, string | string[] | undefined>;

export function quotaResetOf(headers: Headers, body: string, nowMs = Date.now()): QuotaReset | undefined {
  const found = fromMyTrackerBody(body, nowMs) ?? fromRetryAfter(headers, nowMs) ?? fromResetHeaders(headers, nowMs);
  if (!found) return undefined;
  return { ...found, resetAt: Math.min(Math.max(found.resetAt, nowMs), nowMs + MAX_RESET_MS) };
}

function fromMyTrackerBody(body: string, nowMs: number): QuotaReset | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = MyTrackerQuotaBody.safeParse(json);
  if (!parsed.success) return undefined;
  const quotas = parsed.data.data.error.info.quotas;
  const exceeded = quotas.filter((q) => q.exceeded === true);
  let best: QuotaReset | undefined;
  for (const q of exceeded.length > 0 ? exceeded : quotas) {
    const at =
      q.resetInSecond !== undefined && Number.isFinite(q.resetInSecond)
        ? nowMs + q.resetInSecond * 1000
        : q.resetTime !== undefined && Number.isFinite(q.resetTime)
          ? q.resetTime * 1000
          : undefined;
    if (at === undefined) continue;
    if (!best || at > best.resetAt) {
      const field = q.resetInSecond !== undefined ? 'resetInSecond' : 'resetTime';
      best = { resetAt: at, source: `${field} of ${q.name ?? 'a quota'}` };
    }
  }
  return best;
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  const text = Array.isArray(value) ? value[0] : value;
  return text && text.trim() !== '' ? text.trim() : undefined;
}

function fromRetryAfter(headers: Headers, nowMs: number): QuotaReset | undefined {
  const text = header(headers, 'retry-after');
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return { resetAt: nowMs + Number(text) * 1000, source: 'Retry-After' };
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : { resetAt: date, source: 'Retry-After' };
}

function fromResetHeaders(headers: Headers, nowMs: number): QuotaReset | undefined {
  for (const name of ['ratelimit-reset', 'x-ratelimit-reset', 'x-rate-limit-reset']) {
    const text = header(headers, name);
    if (!text || !/^\d+(\.\d+)?$/.test(text)) continue;
    const n = Number(text);
    // Seconds from now, unless it can only be a unix time (later than 2001 in seconds).
    const resetAt = n > 1_000_000_000 ? n * 1000 : nowMs + n * 1000;
    return { resetAt, source: name };
  }
  return undefined;
}
