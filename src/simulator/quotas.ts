/**
 * Vendor quotas as the simulator plays them, per authenticated user (the credential a request signs with, so
 * several accounts each get their own counters). myTracker's quotas page: about 10 requests a second, 100 a
 * minute and 1000 an hour per API user; "when the quota limit is reached, the system blocks access to the API
 * until the end of the corresponding time interval", so the windows are fixed (clock-aligned) intervals and the
 * block lasts until the interval ends. The 429 carries no Retry-After, only the documented body
 * `{"code":429,"message":"Too Many Requests","data":{"error":{"info":{"quotas":[{name,count,limit,resetTime,
 * resetInSecond,exceeded}]}}}}`. About 60 erroneous requests a minute block the user too, and that block stays
 * after the errors stop (played here: until the end of the hour).
 *
 * Besides enforcing, the counters record the most requests any user got through in one fixed window and in any
 * sliding window of the same length, for the admin endpoint (`GET /__sim/quotas`): the measurement of
 * exportflow's fleet-wide rate limits reads them.
 */

export interface QuotaWindowLimit {
  /** The vendor's name for the quota, e.g. `RequestsByUserPerMinute`. */
  name: string;
  seconds: number;
  limit: number;
}

export interface QuotaRule {
  windows: QuotaWindowLimit[];
  /** Erroneous requests (4xx answers, 429 included) in one minute that block the user; 0 = never. */
  erroneousPerMinute: number;
}

export interface QuotaRefusal {
  /** The documented body's `quotas` entries for every exceeded quota. */
  quotas: Array<{
    name: string;
    count: number;
    limit: number;
    resetTime: number;
    resetInSecond: number;
    exceeded: true;
  }>;
  /** Epoch ms when the user may call again. */
  resetAt: number;
}

interface UserState {
  /** Accepted requests, last hour at most (for sliding maxima). */
  times: number[];
  /** Fixed window index and count per window length. */
  fixed: Map<number, { index: number; count: number }>;
  maxFixed: Map<number, number>;
  maxSliding: Map<number, number>;
  accepted: number;
  refused: number;
  errors: { minute: number; count: number };
  erroneous: number;
  blockedUntil: number;
}

const HOUR_MS = 3_600_000;

export class QuotaCounters {
  private users = new Map<string, UserState>();

  constructor(private readonly rule: () => QuotaRule) {}

  private state(user: string): UserState {
    let s = this.users.get(user);
    if (!s) {
      s = {
        times: [],
        fixed: new Map(),
        maxFixed: new Map(),
        maxSliding: new Map(),
        accepted: 0,
        refused: 0,
        errors: { minute: -1, count: 0 },
        erroneous: 0,
        blockedUntil: 0,
      };
      this.users.set(user, s);
    }
    return s;
  }

  /** Counts the request against the user's quotas, or says why and until when it is refused (not counted). */
  admit(user: string, now = Date.now()): QuotaRefusal | undefined {
    const s = this.state(user);
    const { windows } = this.rule();
    if (s.blockedUntil > now) {
      s.refused += 1;
      return {
        quotas: [entry('ErroneousRequestsByUserPerMinute', s.errors.count, 0, s.blockedUntil, now)],
        resetAt: s.blockedUntil,
      };
    }
    const refusal: QuotaRefusal = { quotas: [], resetAt: now };
    for (const w of windows) {
      if (w.limit <= 0) continue; // not played
      const span = w.seconds * 1000;
      const index = Math.floor(now / span);
      const f = s.fixed.get(span);
      const count = f && f.index === index ? f.count : 0;
      if (count >= w.limit) {
        const resetAt = (index + 1) * span;
        refusal.quotas.push(entry(w.name, count, w.limit, resetAt, now));
        refusal.resetAt = Math.max(refusal.resetAt, resetAt);
      }
    }
    if (refusal.quotas.length > 0) {
      s.refused += 1;
      return refusal;
    }
    s.accepted += 1;
    s.times.push(now);
    while (s.times.length > 0 && s.times[0]! <= now - HOUR_MS) s.times.shift();
    for (const w of windows) {
      const span = w.seconds * 1000;
      const index = Math.floor(now / span);
      const f = s.fixed.get(span);
      const count = f && f.index === index ? f.count + 1 : 1;
      s.fixed.set(span, { index, count });
      s.maxFixed.set(span, Math.max(s.maxFixed.get(span) ?? 0, count));
      let sliding = 0;
      for (let i = s.times.length - 1; i >= 0 && s.times[i]! > now - span; i--) sliding++;
      s.maxSliding.set(span, Math.max(s.maxSliding.get(span) ?? 0, sliding));
    }
    return undefined;
  }

  /** Records an erroneous request (a 4xx answer); past the rule's limit in a minute the user is blocked. */
  erroneous(user: string, now = Date.now()): void {
    const s = this.state(user);
    const limit = this.rule().erroneousPerMinute;
    const minute = Math.floor(now / 60_000);
    if (s.errors.minute !== minute) s.errors = { minute, count: 0 };
    s.errors.count += 1;
    s.erroneous += 1;
    if (limit > 0 && s.errors.count >= limit) s.blockedUntil = (Math.floor(now / HOUR_MS) + 1) * HOUR_MS;
  }

  /**
   * The user's standing per window right now, in the shape of the documented 429 body's `quotas` entries (the
   * quota endpoint's answer). Asking counts against nothing.
   */
  current(user: string, now = Date.now()): QuotaStanding[] {
    const s = this.users.get(user);
    return this.rule().windows.map((w) => {
      const span = w.seconds * 1000;
      const index = Math.floor(now / span);
      const f = s?.fixed.get(span);
      const count = f && f.index === index ? f.count : 0;
      return standing(w.name, count, w.limit, (index + 1) * span, now);
    });
  }

  /** Per user: requests accepted/refused, erroneous, and the most accepted in one window (fixed and sliding). */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [user, s] of this.users) {
      const perWindow: Record<string, { limit: number; maxFixed: number; maxSliding: number }> = {};
      for (const w of this.rule().windows) {
        const span = w.seconds * 1000;
        perWindow[w.name] = {
          limit: w.limit,
          maxFixed: s.maxFixed.get(span) ?? 0,
          maxSliding: s.maxSliding.get(span) ?? 0,
        };
      }
      out[user] = {
        accepted: s.accepted,
        refused: s.refused,
        erroneous: s.erroneous,
        blockedUntil: s.blockedUntil > 0 ? new Date(s.blockedUntil).toISOString() : null,
        windows: perWindow,
      };
    }
    return out;
  }

  reset(): void {
    this.users.clear();
  }
}

/** One window's standing, as a documented 429 body's `quotas` entry (`exceeded` false while under the limit). */
type QuotaStanding = Omit<QuotaRefusal['quotas'][number], 'exceeded'> & { exceeded: boolean };

function standing(name: string, count: number, limit: number, resetAt: number, now: number): QuotaStanding {
  return { ...entry(name, count, limit, resetAt, now), exceeded: limit > 0 && count >= limit };
}

function entry(
  name: string,
  count: number,
  limit: number,
  resetAt: number,
  now: number,
): QuotaRefusal['quotas'][number] {
  return {
    name,
    count,
    limit,
    resetTime: Math.ceil(resetAt / 1000),
    resetInSecond: Math.max(1, Math.ceil((resetAt - now) / 1000)),
    exceeded: true,
  };
}

/** myTracker's rule from the simulator's config (names as its documented 429 body uses them). */
export function mytrackerQuotaRule(config: {
  requestsPerSecond: number;
  requestsPerMinute: number;
  requestsPerHour: number;
  erroneousPerMinute: number;
}): QuotaRule {
  return {
    windows: [
      { name: 'RequestsByUserPerSecond', seconds: 1, limit: config.requestsPerSecond },
      { name: 'RequestsByUserPerMinute', seconds: 60, limit: config.requestsPerMinute },
      { name: 'RequestsByUserPerHour', seconds: 3600, limit: config.requestsPerHour },
    ],
    erroneousPerMinute: config.erroneousPerMinute,
  };
}

/** The documented myTracker 429 body for a refusal. */
export function mytrackerQuotaBody(refusal: QuotaRefusal): Record<string, unknown> {
  return { code: 429, message: 'Too Many Requests', data: { error: { info: { quotas: refusal.quotas } } } };
}

/** The user a myTracker request signs as (`AuthHMAC <userId>:<signature>`), whether or not the signature holds. */
export function mytrackerUserOf(authorization: string | undefined): string | undefined {
  return authorization ? /^AuthHMAC\s+([^:\s]+):/.exec(authorization)?.[1] : undefined;
}

/**
 * APSIS One's documented limits (developer.apsis.com/reference/limits), per account "independent of how many API
 * keys you use": profile exports (a segment report request, a single-profile export) up to 1 a second, export
 * downloads (a report's poll URL, a profile's data) up to 60 a minute. APSIS documents only the 429; the simulator
 * adds a Retry-After (seconds until the window ends), a form any client reads.
 */
export function apsisQuotaRules(config: { profileExportsPerSecond: number; exportDownloadsPerMinute: number }): {
  profileExports: QuotaRule;
  exportDownloads: QuotaRule;
} {
  return {
    profileExports: {
      windows: [{ name: 'ProfileExportsPerSecond', seconds: 1, limit: config.profileExportsPerSecond }],
      erroneousPerMinute: 0,
    },
    exportDownloads: {
      windows: [{ name: 'ExportDownloadsPerMinute', seconds: 60, limit: config.exportDownloadsPerMinute }],
      erroneousPerMinute: 0,
    },
  };
}
