/**
 * Admin HTTP API under /__sim/ for tests that run the simulator in another process.
 * It has no authentication and can rewrite every vendor's behaviour: the simulator is a test tool and must
 * never face the internet (it listens on 127.0.0.1 by default).
 */
import { faultRuleFromJson, type FaultControl } from './faults';
import { parseJson, sendEmpty, sendJson, type Ctx } from './http';
import type { ServedFile, SimRequest } from './types';
import { type Vendor } from '../shared/vendors';

export interface AdminTarget {
  requests: SimRequest[];
  faults: FaultControl;
  servedAll(): ServedFile[];
  configs: Record<Vendor, object>;
  state(): Record<string, unknown>;
  /** Per-vendor, per-user quota counters (src/simulator/quotas.ts). */
  quotas(): Record<string, unknown>;
  expireApsisTokens(status?: 401 | 403): void;
  reset(): void;
}

export function adminEndpoint(method: string, path: string): string {
  void method;
  return path.slice('/__sim/'.length) || 'index';
}

/** Drops functions (rowsFor) so a config can travel as JSON. */
function jsonSafe(value: object): unknown {
  return JSON.parse(JSON.stringify(value));
}

export async function handleAdmin(ctx: Ctx, endpoint: string, sim: AdminTarget): Promise<unknown> {
  const route = `${ctx.method} ${endpoint}`;
  switch (route) {
    case 'GET requests':
      return sendJson(ctx, 200, sim.requests);
    case 'GET served':
      return sendJson(ctx, 200, sim.servedAll());
    case 'GET faults':
      return sendJson(ctx, 200, sim.faults.list());
    case 'POST faults': {
      try {
        sim.faults.add(faultRuleFromJson(parseJson(ctx)));
      } catch (err) {
        return sendJson(ctx, 400, { error: err instanceof Error ? err.message : String(err) });
      }
      return sendJson(ctx, 201, sim.faults.list());
    }
    case 'DELETE faults':
      sim.faults.clear();
      return sendEmpty(ctx, 204);
    case 'POST reset':
      sim.reset();
      return sendEmpty(ctx, 204);
    case 'GET config':
      return sendJson(ctx, 200, jsonSafe(sim.configs));
    case 'POST config': {
      const body = parseJson(ctx) as { vendor?: unknown; patch?: unknown } | undefined;
      const vendor = body?.vendor;
      const patch = body?.patch;
      if (
        (vendor !== 'altcraft' && vendor !== 'apsis' && vendor !== 'mytracker') ||
        typeof patch !== 'object' ||
        patch === null ||
        Array.isArray(patch)
      ) {
        return sendJson(ctx, 400, { error: 'body must be {vendor: "altcraft"|"apsis"|"mytracker", patch: {...}}' });
      }
      const target = sim.configs[vendor];
      const unknown = Object.keys(patch).filter((k) => k === 'rowsFor' || k === '__proto__' || k === 'constructor');
      if (unknown.length > 0) return sendJson(ctx, 400, { error: `cannot patch ${unknown.join(', ')} over HTTP` });
      Object.assign(target, patch);
      return sendJson(ctx, 200, jsonSafe(target));
    }
    case 'GET quotas':
      return sendJson(ctx, 200, sim.quotas());
    case 'GET state':
      return sendJson(ctx, 200, sim.state());
    case 'POST apsis/expire-tokens':
      // ?status=403 refuses the withdrawn tokens with 403 instead of 401.
      sim.expireApsisTokens(ctx.url.searchParams.get('status') === '403' ? 403 : 401);
      return sendEmpty(ctx, 204);
    default:
      return sendJson(ctx, 404, {
        error: 'unknown admin route',
        routes: [
          'GET requests',
          'GET served',
          'GET|POST|DELETE faults',
          'POST reset',
          'GET|POST config',
          'GET state',
          'GET quotas',
          'POST apsis/expire-tokens',
        ],
      });
  }
}
