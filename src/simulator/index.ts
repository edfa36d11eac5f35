/**
 * The vendor simulator: Altcraft, APSIS One and myTracker on one local HTTP server, told apart by path, built
 * from the vendors' pages (docs/vendors/) independently of the real clients so that misreadings on either side show up in tests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdmin, adminEndpoint } from './admin';
import { ALTCRAFT_DEFAULTS, createAltcraft, type AltcraftSim, type AltcraftSimConfig } from './altcraft';
import { APSIS_DEFAULTS, createApsis, type ApsisSim, type ApsisSimConfig } from './apsis';
import { FaultControl, HTML_ERROR_PAGE, type FaultAction } from './faults';
import { pause, readBody, redactPath, sendJson, sendText, type Ctx } from './http';
import { MYTRACKER_DEFAULTS, createMyTracker, type MyTrackerSim, type MyTrackerSimConfig } from './mytracker';
import { listenStorageHost } from './storage-host';
import type { LoggedVendor, ServedFile, SimRequest } from './types';

export type { AltcraftSimConfig, AltcraftTask } from './altcraft';
export type { ApsisSimConfig, ApsisReport } from './apsis';
export type { ApsisProfileExport, CallbackRecord } from './apsis-profile';
export type { MyTrackerSimConfig, MyTrackerExport } from './mytracker';
export type { FaultAction, FaultMatch, FaultRule } from './faults';
export type { SimRequest, ServedFile } from './types';
export type { Vendor } from '../shared/vendors';
export { FaultControl } from './faults';
export { csvRows, csvBytesOf, csvInfo, csvSize, countCsvRecords, rowFields, CSV_COLUMNS } from './datasets';
export { mytrackerAuthorization, mytrackerBaseline, mytrackerSignature, mytrackerUrlencode } from './mytracker-auth';
export { APSIS_CSV_TYPE, APSIS_DOCUMENTED_LIMITS, XLSX_TYPE } from './apsis';

/** Default credentials the simulator accepts; `exportflow simulate`/`dev --simulate` give the same to the worker. */
export const SIMULATOR_DEFAULTS = {
  altcraftToken: ALTCRAFT_DEFAULTS.token,
  apsisClientId: APSIS_DEFAULTS.clientId,
  apsisClientSecret: APSIS_DEFAULTS.clientSecret,
  mytrackerUserId: MYTRACKER_DEFAULTS.userId,
  mytrackerSecret: MYTRACKER_DEFAULTS.secret,
} as const;

/** One account's credentials at the simulator (the same fields for `default` and named accounts). */
export interface SimAccountCredentials {
  altcraftToken: string;
  apsisClientId: string;
  apsisClientSecret: string;
  mytrackerUserId: string;
  mytrackerSecret: string;
}

export interface SimulatorOptions {
  /**
   * Named accounts served besides `default`, each with its own credentials at all three vendors (see
   * Simulator.addAccount); `simulatorEnv(sim, names)` gives a worker their `__<NAME>` variables.
   */
  accounts?: string[];
  /** Default 127.0.0.1: the simulator (and its /__sim admin API) must never face the internet. */
  host?: string;
  /** Default 0: a random free port. */
  port?: number;
  altcraft?: Partial<AltcraftSimConfig>;
  apsis?: Partial<ApsisSimConfig>;
  mytracker?: Partial<MyTrackerSimConfig>;
  /**
   * Every vendor answer waits a random time in this range first. A request that has fully arrived is then handled
   * even if its client died meanwhile (a half-closed connection), as a real server would.
   */
  latencyMs?: { min: number; max: number };
}

export interface Simulator {
  /** Base URL for all three vendors, e.g. http://127.0.0.1:43121. */
  url: string;
  /** Base URL of the object storage myTracker's file links point to (another origin, e.g. http://127.0.0.2:40211). */
  storageUrl: string;
  port: number;
  /** The `default` account's credentials. */
  credentials: SimAccountCredentials;
  /**
   * Serves a named account from now on with credentials of its own (made from its name, so every process that
   * knows the name can point a worker at it); returns them. Tasks, exports and reports are per account.
   */
  addAccount(name: string): SimAccountCredentials;
  /** A named account's credentials (undefined until added). */
  accountCredentials(name: string): SimAccountCredentials | undefined;
  /** Every request received, in order (admin ones too, as vendor 'admin'). */
  requests: SimRequest[];
  count(filter: Partial<Pick<SimRequest, 'vendor' | 'endpoint' | 'method'>>): number;
  faults: FaultControl;
  altcraft: AltcraftSim;
  apsis: ApsisSim;
  mytracker: MyTrackerSim;
  /** All vendors' served files, in order. */
  served(): ServedFile[];
  /**
   * Every distinct Authorization header value received (bearer tokens, AuthHMAC signatures), so a test can
   * search histories and logs for them. Kept in memory only: not in `requests`, not on the admin API.
   */
  authorizationsSeen(): string[];
  /** Changes (or with undefined removes) the random latency of vendor answers. */
  setLatency(range: { min: number; max: number } | undefined): void;
  /** Clears requests, faults, served files, tasks/reports/exports and pending callbacks; keeps config. */
  reset(): void;
  close(): Promise<void>;
}

/** Credentials for a named simulator account, made from its name (stable across processes). */
export function simAccountCredentials(name: string): SimAccountCredentials {
  const key = name.toLowerCase();
  const digits = [...key].reduce((n, ch) => (n * 31 + ch.charCodeAt(0)) % 900_000, 7);
  return {
    altcraftToken: `sim-altcraft-token-${key}`,
    apsisClientId: `sim-apsis-client-${key}`,
    apsisClientSecret: `sim-apsis-secret-${key}`,
    mytrackerUserId: String(100_000 + digits),
    mytrackerSecret: `sim-mytracker-secret-${key}`,
  };
}

/**
 * The environment (docs/configuration.md names) that points a worker at this simulator: the `default` account's plain
 * variables, and `<VAR>__<NAME>` for each named account given.
 */
export function simulatorEnv(
  sim: Pick<Simulator, 'url' | 'credentials'>,
  accounts: readonly string[] = [],
): Record<string, string> {
  const named: Record<string, string> = {};
  for (const account of accounts) {
    const c = simAccountCredentials(account);
    const suffix = `__${account.toUpperCase()}`;
    Object.assign(named, {
      [`ALTCRAFT_BASE_URL${suffix}`]: sim.url,
      [`ALTCRAFT_TOKEN${suffix}`]: c.altcraftToken,
      [`APSIS_BASE_URL${suffix}`]: sim.url,
      [`APSIS_CLIENT_ID${suffix}`]: c.apsisClientId,
      [`APSIS_CLIENT_SECRET${suffix}`]: c.apsisClientSecret,
      [`MYTRACKER_BASE_URL${suffix}`]: sim.url,
      [`MYTRACKER_API_USER_ID${suffix}`]: c.mytrackerUserId,
      [`MYTRACKER_API_SECRET${suffix}`]: c.mytrackerSecret,
    });
  }
  return {
    ...named,
    ALTCRAFT_BASE_URL: sim.url,
    ALTCRAFT_TOKEN: sim.credentials.altcraftToken,
    APSIS_BASE_URL: sim.url,
    APSIS_CLIENT_ID: sim.credentials.apsisClientId,
    APSIS_CLIENT_SECRET: sim.credentials.apsisClientSecret,
    MYTRACKER_BASE_URL: sim.url,
    MYTRACKER_API_USER_ID: sim.credentials.mytrackerUserId,
    MYTRACKER_API_SECRET: sim.credentials.mytrackerSecret,
  };
}

/** Starts the simulator; resolves once it listens. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? '127.0.0.1';
  const altcraft = createAltcraft({ ...ALTCRAFT_DEFAULTS, rows: {}, accounts: {}, ...opts.altcraft }, []);
  const apsis = createApsis({ ...APSIS_DEFAULTS, accounts: {}, ...opts.apsis }, []);
  const mytracker = createMyTracker({ ...MYTRACKER_DEFAULTS, accounts: {}, ...opts.mytracker }, []);
  const addAccount = (name: string): SimAccountCredentials => {
    const key = name.toLowerCase();
    const c = simAccountCredentials(key);
    altcraft.config.accounts[key] = c.altcraftToken;
    apsis.config.accounts[key] = { clientId: c.apsisClientId, clientSecret: c.apsisClientSecret };
    mytracker.config.accounts[key] = { userId: c.mytrackerUserId, secret: c.mytrackerSecret };
    return c;
  };
  for (const name of opts.accounts ?? []) addAccount(name);
  const requests: SimRequest[] = [];
  const authorizations = new Set<string>();
  let latency = opts.latencyMs;
  const faults = new FaultControl();
  const vendors = { altcraft, apsis, mytracker };

  const servedAll = (): ServedFile[] =>
    [...altcraft.served, ...apsis.served, ...mytracker.served].sort((a, b) => a.at - b.at);
  const reset = (): void => {
    requests.length = 0;
    faults.clear();
    for (const v of Object.values(vendors)) {
      v.served.length = 0;
      v.reset();
    }
  };
  const admin = {
    requests,
    faults,
    servedAll,
    reset,
    configs: { altcraft: altcraft.config, apsis: apsis.config, mytracker: mytracker.config },
    expireApsisTokens: (status?: 401 | 403) => apsis.expireTokens(status),
    quotas: () => ({ mytracker: mytracker.quotas(), apsis: apsis.quotas() }),
    state: () => ({
      altcraftTasks: altcraft.tasks(),
      apsisReports: apsis.reports(),
      apsisProfileExports: apsis.profileExports(),
      apsisCallbacksSent: apsis.callbacksSent,
      mytrackerExports: mytracker.exports(),
    }),
  };

  function classify(method: string, path: string): { vendor: LoggedVendor; endpoint: string } {
    if (path.startsWith('/__sim/')) return { vendor: 'admin', endpoint: adminEndpoint(method, path) };
    for (const [name, v] of Object.entries(vendors)) {
      const endpoint = v.route(method, path);
      if (endpoint !== undefined) return { vendor: name as LoggedVendor, endpoint };
    }
    return { vendor: 'unknown', endpoint: 'unknown' };
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse, onStorageHost = false): Promise<void> {
    const rawUrl = req.url ?? '/';
    const base = `http://${req.headers.host ?? `${host}:${port}`}`;
    let url: URL;
    try {
      url = new URL(rawUrl, base);
    } catch {
      url = new URL('/', `http://${host}:${port}`);
    }
    const method = req.method ?? 'GET';
    // The storage host serves myTracker files only (and no admin API).
    const { vendor, endpoint } = onStorageHost
      ? { vendor: 'mytracker' as const, endpoint: mytracker.route(method, url.pathname) ?? 'unknown' }
      : classify(method, url.pathname);
    const log: SimRequest = {
      vendor,
      endpoint,
      method,
      path: redactPath(rawUrl),
      status: 0,
      hadAuthorization: req.headers.authorization !== undefined,
      at: Date.now(),
    };
    if (typeof req.headers.range === 'string') log.range = req.headers.range;
    if (onStorageHost) log.storageHost = true;
    requests.push(log);
    res.on('close', () => {
      log.status = res.headersSent ? res.statusCode : 0;
      log.endedAt = Date.now();
    });
    const { body, tooLarge } = await readBody(req);
    const ctx: Ctx = { req, res, method, url, base, body, bodyTooLarge: tooLarge, log, onStorageHost };

    if (vendor === 'admin') {
      await handleAdmin(ctx, endpoint, admin);
      return;
    }
    if (req.headers.authorization) authorizations.add(req.headers.authorization);
    const subject = vendor === 'unknown' ? undefined : vendors[vendor].subject(ctx, endpoint);
    if (subject !== undefined) log.subject = subject;
    if (latency) {
      await pause(ctx, latency.min + Math.random() * Math.max(0, latency.max - latency.min));
      if (res.destroyed) return;
    }
    const fault = faults.take(vendor, endpoint, subject);
    if (fault && (await applyFault(ctx, fault)) === 'handled') return;
    if (vendor === 'unknown') {
      await sendJson(ctx, 404, { error: 'Not Found', path: url.pathname });
      return;
    }
    await vendors[vendor].handle(ctx, endpoint);
  }

  const onRequest = (onStorageHost: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    handleRequest(req, res, onStorageHost).catch((err: unknown) => {
      // A simulator bug must be loud in the test that hit it, not a hung request.
      console.error('[simulator] handler error', err);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ error: 'simulator internal error', message: String(err) }));
      } else {
        res.destroy();
      }
    });
  };
  const server = createServer(onRequest(false));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const storage = await listenStorageHost(host, onRequest(true));
  mytracker.setStorageBase(storage.url);

  return {
    url: `http://${urlHost}:${port}`,
    storageUrl: storage.url,
    port,
    get credentials() {
      return {
        altcraftToken: altcraft.config.token,
        apsisClientId: apsis.config.clientId,
        apsisClientSecret: apsis.config.clientSecret,
        mytrackerUserId: mytracker.config.userId,
        mytrackerSecret: mytracker.config.secret,
      };
    },
    addAccount,
    accountCredentials: (name) =>
      altcraft.config.accounts[name.toLowerCase()] !== undefined ? simAccountCredentials(name) : undefined,
    requests,
    count: (filter) =>
      requests.filter(
        (r) =>
          (filter.vendor === undefined || r.vendor === filter.vendor) &&
          (filter.endpoint === undefined || r.endpoint === filter.endpoint) &&
          (filter.method === undefined || r.method === filter.method),
      ).length,
    faults,
    altcraft,
    apsis,
    mytracker,
    served: servedAll,
    authorizationsSeen: () => [...authorizations],
    setLatency(range) {
      latency = range;
    },
    reset,
    close: async () => {
      apsis.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await storage.close();
    },
  };
}

/** Applies a fault that replaces or delays the answer; body faults are left on ctx for the writer. */
async function applyFault(ctx: Ctx, fault: FaultAction): Promise<'handled' | 'continue'> {
  switch (fault.kind) {
    case 'status': {
      const body = fault.body ?? { code: fault.status, message: `Simulated HTTP ${fault.status}` };
      if (typeof body === 'string') await sendText(ctx, fault.status, body, 'text/plain; charset=utf-8', fault.headers);
      else await sendJson(ctx, fault.status, body, fault.headers);
      return 'handled';
    }
    case 'html':
      await sendText(ctx, fault.status ?? 200, HTML_ERROR_PAGE, 'text/html; charset=utf-8');
      return 'handled';
    case 'json':
      await sendJson(ctx, fault.status ?? 200, fault.body);
      return 'handled';
    case 'reset':
      ctx.req.socket.destroy();
      return 'handled';
    case 'delay':
      await pause(ctx, fault.ms);
      return ctx.res.destroyed ? 'handled' : 'continue';
    case 'truncate':
    case 'wrongLength':
      ctx.bodyFault = fault;
      return 'continue';
  }
}
