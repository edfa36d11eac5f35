import { z } from 'zod';
import { accountNamesIn, accountVariable } from '../config';
import { VENDORS, type Vendor } from '../shared/vendors';
import { DEFAULT_ACCOUNT } from '../shared/inputs';

/**
 * Vendor quotas per account: `EXPORTFLOW_QUOTA_<VENDOR>[__<ACCOUNT>]`, e.g. `10/s,100/min,1000/h`. They are held
 * for all workers together by the Temporal server (src/quota/task-queue-config.ts), as one request rate per
 * account sized so that every window holds (see `sustainedRate`).
 */

export interface QuotaWindow {
  /** Calls allowed per window. */
  limit: number;
  /** Window length in seconds (1, 60, 3600 or 86400). */
  seconds: number;
}

export interface Quota {
  /** The text it was read from (or the default), for messages and docs. */
  text: string;
  windows: QuotaWindow[];
}

/**
 * Documented limits, used when no variable says otherwise:
 * - myTracker: "about 10 requests a second, 100 a minute and 1000 an hour" per API user (Export API, quotas page).
 * - APSIS One: per account, "Profile exports - up to 1 request per second" and "Export downloads - up to 60
 *   requests per minute" (developer.apsis.com/reference/limits); the other endpoints we call allow 100/s, so the
 *   two strictest ones bound every call.
 * - Altcraft documents no rate limit. 5/s,300/min is what exportflow always allowed (5 activities/s per queue)
 *   and a self-hosted panel serves it easily; it keeps a runaway fleet from hammering a customer's panel.
 */
export const DEFAULT_QUOTAS: Record<Vendor, string> = {
  mytracker: '10/s,100/min,1000/h',
  apsis: '1/s,60/min',
  altcraft: '5/s,300/min',
};

/**
 * Calls the server may let through at once before its rate limit bites: about one per task queue partition
 * (4 on the dev server and by default). Rates are sized so that this burst on top still fits every window.
 */
export const QUEUE_BURST = 4;

/** The share of a window's sustained rate we plan for: the rest absorbs timing noise and clock skew. */
const SAFETY = 0.9;

const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  sec: 1,
  second: 1,
  m: 60,
  min: 60,
  minute: 60,
  h: 3600,
  hour: 3600,
  d: 86_400,
  day: 86_400,
};

const WindowText = z
  .string()
  .trim()
  .regex(/^\d+\s*\/\s*[a-z]+$/i, 'each part must be <count>/<unit>, e.g. 100/min')
  .transform((part, ctx): QuotaWindow => {
    const [count, unit] = part.split('/').map((s) => s.trim()) as [string, string];
    const seconds = UNIT_SECONDS[unit.toLowerCase()];
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown unit "${unit}" (use s, min, h or d)` });
      return z.NEVER;
    }
    const limit = Number(count);
    if (!Number.isSafeInteger(limit) || limit < 1) {
      ctx.addIssue({ code: 'custom', message: `"${part}" must allow at least 1 call` });
      return z.NEVER;
    }
    return { limit, seconds };
  });

/** Parses `10/s,100/min,1000/h`; throws an Error naming `variable` and what was expected. */
export function parseQuota(variable: string, text: string): Quota {
  const parts = text.split(',').filter((p) => p.trim() !== '');
  const parsed = z.array(WindowText).min(1, 'at least one window').safeParse(parts);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => i.message).join('; ');
    throw new Error(`${variable}: "${text}" is not a quota (${why}); expected e.g. 10/s,100/min,1000/h`);
  }
  const seen = new Set<number>();
  for (const w of parsed.data) {
    if (seen.has(w.seconds)) throw new Error(`${variable}: "${text}" names the same window twice`);
    seen.add(w.seconds);
  }
  return { text: text.trim(), windows: parsed.data.sort((a, b) => a.seconds - b.seconds) };
}

/** The variable holding a vendor's quota for an account (`default` reads the plain one). */
export function quotaVariable(vendor: Vendor, account: string): string {
  return accountVariable(`EXPORTFLOW_QUOTA_${vendor.toUpperCase()}`, account);
}

/**
 * The account's quota: its own variable, else the vendor's plain variable, else the documented default
 * (a named account is a separate user/panel with the same documented limits).
 */
export function quotaFor(vendor: Vendor, account: string, env: NodeJS.ProcessEnv = process.env): Quota {
  for (const variable of [quotaVariable(vendor, account), quotaVariable(vendor, 'default')]) {
    const text = env[variable];
    if (text !== undefined && text.trim() !== '') return parseQuota(variable, text);
  }
  return parseQuota(`default quota of ${vendor}`, DEFAULT_QUOTAS[vendor]);
}

/**
 * Requests per second that keep every window of the quota, with QUEUE_BURST calls on top of it: for each
 * window, (limit − burst) spread over the window; where the burst alone would fill a window (APSIS's 1/s) half
 * the window's rate, and the vendor's 429 (waited out by the workflow) covers the rare burst. An hour window
 * becomes a rate too: 1000/h allows 0.249/s, which costs throughput (one call every 4 s per account) but no
 * mechanism of our own, and holds for all workers since the server enforces it.
 */
export function sustainedRate(quota: Quota, burst = QUEUE_BURST): number {
  let rate = Infinity;
  for (const w of quota.windows) {
    const usable = w.limit > 2 * burst ? w.limit - burst : w.limit / 2;
    rate = Math.min(rate, usable / w.seconds);
  }
  return Math.round(rate * SAFETY * 10_000) / 10_000;
}

/**
 * Accounts a vendor has quotas for: `default`, every account its credential variables name (the same discovery
 * as the credentials', src/config.ts accountNamesIn), and every `EXPORTFLOW_QUOTA_<VENDOR>__<NAME>`.
 */
export function accountsIn(vendor: Vendor, env: NodeJS.ProcessEnv = process.env): string[] {
  const names = new Set<string>([DEFAULT_ACCOUNT, ...accountNamesIn(env).names[vendor]]);
  const quotaPrefix = `EXPORTFLOW_QUOTA_${vendor.toUpperCase()}__`;
  for (const key of Object.keys(env)) {
    if (key.startsWith(quotaPrefix) && key.length > quotaPrefix.length) {
      names.add(key.slice(quotaPrefix.length).toLowerCase());
    }
  }
  return [...names].sort();
}

/** Every configured quota, checked once at worker start so a bad variable stops it with the variable named. */
export function readQuotas(env: NodeJS.ProcessEnv = process.env): Record<Vendor, Record<string, Quota>> {
  const out = {} as Record<Vendor, Record<string, Quota>>;
  for (const vendor of VENDORS) {
    out[vendor] = Object.fromEntries(accountsIn(vendor, env).map((a) => [a, quotaFor(vendor, a, env)]));
  }
  return out;
}
