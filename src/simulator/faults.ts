/**
 * Fault injection: rules matched per (vendor, endpoint), consumed in the order they were added.
 * A rule fires once its own count of matching requests passes `afterCount`, then `times` counts down.
 */
import type { LoggedVendor } from './types';

export type FaultAction =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'html'; status?: number }
  | { kind: 'json'; body: unknown; status?: number }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  | { kind: 'truncate'; afterBytes: number }
  /** Content-Length off by `delta` bytes (default +16: claims more than is sent, then the connection closes). */
  | { kind: 'wrongLength'; delta?: number };

export interface FaultMatch {
  /** Omitted: any vendor. */
  vendor?: LoggedVendor;
  /** Omitted: any endpoint of the vendor. */
  endpoint?: string;
  /** Omitted: any subject; otherwise only requests about this subject (see SimRequest.subject). */
  subject?: string;
  /** How many requests the rule affects (default 1; Infinity for all). */
  times?: number;
  /** Let this many matching requests pass untouched first (default 0). */
  afterCount?: number;
}

export type FaultRule = FaultMatch & FaultAction;

/** Faults that change how a body is written rather than replacing the answer. */
export type BodyFault = Extract<FaultAction, { kind: 'truncate' } | { kind: 'wrongLength' }>;

interface LiveRule {
  rule: FaultRule;
  remaining: number;
  seen: number;
}

export class FaultControl {
  private rules: LiveRule[] = [];

  /** Adds a rule; returns it so a test can keep a handle. */
  add(rule: FaultRule): FaultRule {
    const times = rule.times ?? 1;
    if (!(times > 0)) throw new RangeError('fault times must be > 0');
    this.rules.push({ rule, remaining: times, seen: 0 });
    return rule;
  }

  clear(): void {
    this.rules = [];
  }

  /** Rules still armed, with how many firings each has left. */
  list(): Array<FaultRule & { remaining: number }> {
    return this.rules.map((r) => ({ ...r.rule, remaining: r.remaining }));
  }

  /** Finds and consumes the first rule for this request, if any. */
  take(vendor: LoggedVendor, endpoint: string, subject?: string): FaultAction | undefined {
    for (const live of this.rules) {
      const { rule } = live;
      if (rule.vendor !== undefined && rule.vendor !== vendor) continue;
      if (rule.endpoint !== undefined && rule.endpoint !== endpoint) continue;
      if (rule.subject !== undefined && rule.subject !== subject) continue;
      live.seen++;
      if (live.seen <= (rule.afterCount ?? 0)) continue;
      live.remaining--;
      if (live.remaining <= 0) this.rules = this.rules.filter((r) => r !== live);
      return rule;
    }
    return undefined;
  }
}

/** Parses a rule arriving as JSON (admin API): `times` may be "Infinity", null or -1 for "forever". */
export function faultRuleFromJson(input: unknown): FaultRule {
  if (typeof input !== 'object' || input === null) throw new TypeError('fault rule must be an object');
  const raw = { ...(input as Record<string, unknown>) };
  if (raw.times === 'Infinity' || raw.times === null || raw.times === -1) raw.times = Infinity;
  const kinds = ['status', 'html', 'json', 'reset', 'delay', 'truncate', 'wrongLength'];
  if (typeof raw.kind !== 'string' || !kinds.includes(raw.kind))
    throw new TypeError(`unknown fault kind ${String(raw.kind)}`);
  if (raw.kind === 'status' && typeof raw.status !== 'number')
    throw new TypeError('status fault needs a numeric status');
  if (raw.kind === 'delay' && typeof raw.ms !== 'number') throw new TypeError('delay fault needs ms');
  if (raw.kind === 'truncate' && typeof raw.afterBytes !== 'number')
    throw new TypeError('truncate fault needs afterBytes');
  return raw as unknown as FaultRule;
}

export const HTML_ERROR_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>' +
  '<body><h1>502 Bad Gateway</h1><p>The upstream server is temporarily unavailable.</p><hr><center>nginx</center></body></html>\n';
