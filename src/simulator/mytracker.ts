/**
 * Simulated myTracker segment export (docs/vendors/mytracker.md): create.json -> get.json -> .csv.gz links.
 * Every API request must carry a valid AuthHMAC signature and stays inside the user's quota. By default the links
 * point to object storage on another host, as the vendor's own client shows (`https://rawdata.hb.bizmrg.com/
 * segment/...`): a capability URL that takes no signature, ignores Authorization and serves Range (unless
 * `storageRequiresSignature`, when it demands the link's AuthHMAC signature). With
 * `storageHost: 'api'` they are on the API host under /storage/download/ (the get.json page's examples) and signed.
 */
import { createHash } from 'node:crypto';
import { csvRows } from './datasets';
import { serveFile } from './files';
import { gzipChunks, gzipInfo } from './gzip';
import { sendJson, skipBytes, type Ctx } from './http';
import { verifyMytrackerAuthorization } from './mytracker-auth';
import { QuotaCounters, mytrackerQuotaBody, mytrackerQuotaRule, mytrackerUserOf } from './quotas';
import type { ServedFile } from './types';

export interface MyTrackerSimConfig {
  /** The `default` account's API user. */
  userId: string;
  secret: string;
  /** Named accounts (API users) served besides `default`: account name -> credentials. */
  accounts: Record<string, { userId: string; secret: string }>;
  exportDurationMs: number;
  files: number;
  rowsPerFile: number;
  /** Links expire this many seconds after the get.json that issued them. */
  linkTtlSec: number;
  /** The first N exports created (since reset) end in "Error occurred" for good: the client must create anew. */
  errorOccurredTimes: number;
  /** Every export answers "Error occurred" this many polls after finishing, then "Success!" (transient). */
  transientErrorPolls: number;
  /** When set, finished exports report "User error occurred" with this errorMessage. */
  userError?: string;
  /** When true, finished exports report "Canceled by user". */
  canceled?: boolean;
  requestsPerSecond: number;
  requestsPerMinute: number;
  requestsPerHour: number;
  /** Erroneous requests (4xx, 429 included) a minute that block the user until the end of the hour; 0 = never. */
  erroneousPerMinute: number;
  supportRange: boolean;
  downloadBytesPerSec?: number;
  /** Where get.json's links point: object storage on a second host (default), or the API host itself. */
  storageHost: 'storage' | 'api';
  /**
   * With includeHeaderLine, the header goes "to the first file" only (create.json's words; default), or with
   * true into every file (the reading the client assumed before).
   */
  headerInEveryFile: boolean;
  /** API-host links (`storageHost: 'api'`) answer 302 to the same file on the storage host, as a CDN front would. */
  apiLinksRedirect: boolean;
  /**
   * The storage host demands the AuthHMAC signature over the link, as myTracker says download authorization
   * "will become mandatory" (the vendor's Python client already signs links). Unsigned or wrongly signed
   * requests get `storageRefusalStatus`. Off by default: today's links work unsigned.
   */
  storageRequiresSignature: boolean;
  storageRefusalStatus: 401 | 403;
}

export const MYTRACKER_DEFAULTS: MyTrackerSimConfig = {
  userId: '10001',
  secret: 'sim-mytracker-secret',
  accounts: {},
  exportDurationMs: 2000,
  files: 3,
  rowsPerFile: 40,
  linkTtlSec: 3600,
  errorOccurredTimes: 0,
  transientErrorPolls: 0,
  requestsPerSecond: 10,
  requestsPerMinute: 100,
  requestsPerHour: 1000,
  erroneousPerMinute: 60,
  supportRange: true,
  storageHost: 'storage',
  headerInEveryFile: false,
  apiLinksRedirect: false,
  storageRequiresSignature: false,
  storageRefusalStatus: 403,
};

export interface MyTrackerFile {
  exportId: string;
  /** 0 for the first file of an export: the only one with the header line (by default). */
  index: number;
  /** Path on the API host (the get.json page's link shape). */
  path: string;
  /** Path on the storage host (the vendor client's link shape). */
  storagePath: string;
  seed: string;
  rows: number;
  /** Unix seconds; undefined until a get.json has issued the link. */
  expiresAt?: number;
}

export interface MyTrackerExport {
  id: string;
  /** The account (API user) that created it; other users get 404 for its id, as for an unknown one. */
  account: string;
  idSegment: string;
  createdAt: number;
  header: boolean;
  query: Record<string, string>;
  broken: boolean;
  transientLeft: number;
  files: MyTrackerFile[];
}

const PREFIX = '/api/segment/v1/export/';
/** myTracker's quota endpoint, GET /api/open/user/v1/quotas/get.json (the vendor's PHP client wraps it in QuotasClient). */
const QUOTAS_PATH = '/api/open/user/v1/quotas/get.json';
const envelope = (code: number, message: string, data: unknown): Record<string, unknown> => ({ code, message, data });
const GZIP_TYPE = 'application/gzip';

export function createMyTracker(config: MyTrackerSimConfig, served: ServedFile[]) {
  let exports = new Map<string, MyTrackerExport>();
  let created = 0;
  let nextId = 1001; // never reused across reset, so a stale id held by a client stays unknown
  const filesByPath = new Map<string, MyTrackerFile>();
  // Per API user (the user a request signs as), fixed windows, documented 429 body: src/simulator/quotas.ts.
  const quotas = new QuotaCounters(() => mytrackerQuotaRule(config));
  /** Base URL of the storage host, set once it listens; links fall back to the API host without one. */
  let storageBase: string | undefined;

  function route(method: string, path: string): string | undefined {
    void method;
    if (path === `${PREFIX}create.json`) return 'create';
    if (path === `${PREFIX}get.json`) return 'get';
    if (path === QUOTAS_PATH) return 'quotas';
    if (path.startsWith('/storage/download/')) return 'download';
    if (path.startsWith('/segment/')) return 'download';
    if (path.startsWith('/api/')) return 'other';
    return undefined;
  }

  function notFound(ctx: Ctx, detail: string): Promise<unknown> {
    return sendJson(ctx, 404, envelope(404, 'Not Found', { error: { detail } }));
  }

  async function create(ctx: Ctx, account: string): Promise<unknown> {
    const idSegment = ctx.url.searchParams.get('idSegment');
    if (idSegment === null || !/^\d+$/.test(idSegment)) {
      return sendJson(
        ctx,
        400,
        envelope(400, 'Bad Request', { error: { detail: 'idSegment is required and must be an integer' } }),
      );
    }
    const headerParam = ctx.url.searchParams.get('includeHeaderLine');
    const id = String(nextId++);
    const files: MyTrackerFile[] = [];
    for (let k = 0; k < Math.max(1, config.files); k++) {
      const hex = createHash('md5').update(`${id}:${k}`).digest('hex');
      const day = new Date().toISOString().slice(0, 10).replace(/-/g, '.');
      const file: MyTrackerFile = {
        exportId: id,
        index: k,
        path: `/storage/download/segment/${id}.${k + 1}.${hex}.csv.gz`,
        storagePath: `/segment/${day}/${id}.${k + 1}.${hex}.csv.gz`,
        seed: `mytracker:${idSegment}:${k}`,
        rows: config.rowsPerFile,
      };
      files.push(file);
      filesByPath.set(file.path, file);
      filesByPath.set(file.storagePath, file);
    }
    exports.set(id, {
      id,
      account,
      idSegment,
      createdAt: Date.now(),
      header: !(headerParam === '0' || headerParam === 'false'),
      query: Object.fromEntries(ctx.url.searchParams),
      broken: created < config.errorOccurredTimes,
      transientLeft: config.transientErrorPolls,
      files,
    });
    created++;
    return sendJson(ctx, 200, envelope(200, 'Ok', { idSegmentExport: id }));
  }

  async function get(ctx: Ctx, account: string): Promise<unknown> {
    const found = exports.get(ctx.url.searchParams.get('idSegmentExport') ?? '');
    // Export ids are per API user: another user's export is as unknown as one that never existed.
    if (found && found.account !== account) ctx.log.foreign = true;
    const exp = found?.account === account ? found : undefined;
    if (!exp) return notFound(ctx, 'Segment export request not found');
    const elapsed = Date.now() - exp.createdAt;
    const base = { idSegmentExport: exp.id };
    if (elapsed < config.exportDurationMs) {
      const pct = Math.min(99, Math.floor((elapsed / config.exportDurationMs) * 100));
      return sendJson(ctx, 200, envelope(200, 'Ok', { ...base, status: 'In progress', progress: `${pct}%` }));
    }
    if (config.canceled) return sendJson(ctx, 200, envelope(200, 'Ok', { ...base, status: 'Canceled by user' }));
    if (config.userError !== undefined)
      return sendJson(
        ctx,
        200,
        envelope(200, 'Ok', { ...base, status: 'User error occurred', errorMessage: config.userError }),
      );
    if (exp.broken || exp.transientLeft > 0) {
      if (!exp.broken) exp.transientLeft--;
      return sendJson(ctx, 200, envelope(200, 'Ok', { ...base, status: 'Error occurred' }));
    }
    // Each successful poll issues the links afresh, so polling again is how a client renews expired links.
    const expires = Math.floor(Date.now() / 1000) + config.linkTtlSec;
    const onStorage = config.storageHost === 'storage' && storageBase !== undefined;
    const files = exp.files.map((f) => {
      f.expiresAt = expires;
      const link = onStorage ? `${storageBase}${f.storagePath}` : `${ctx.base}${f.path}`;
      return { link, timestampExpires: String(expires) };
    });
    return sendJson(ctx, 200, envelope(200, 'Ok', { ...base, status: 'Success!', files }));
  }

  async function download(ctx: Ctx, account?: string): Promise<unknown> {
    const file = filesByPath.get(ctx.url.pathname);
    let exp = file ? exports.get(file.exportId) : undefined;
    // Signed API-host links belong to their API user; storage links are capability URLs (no account).
    if (exp && account !== undefined && exp.account !== account) {
      ctx.log.foreign = true;
      exp = undefined;
    }
    if (!file || !exp || file.expiresAt === undefined) return notFound(ctx, 'File not found');
    if (Date.now() / 1000 > file.expiresAt)
      return sendJson(ctx, 410, envelope(410, 'Gone', { error: { detail: 'Link expired' } }));
    if (!ctx.onStorageHost && config.apiLinksRedirect && storageBase !== undefined) {
      ctx.res.writeHead(302, { Location: `${storageBase}${file.storagePath}`, 'Content-Length': '0' });
      ctx.res.end();
      return undefined;
    }
    const header = exp.header && (file.index === 0 || config.headerInEveryFile);
    const source = (): Iterable<Buffer> => csvRows(file.seed, file.rows, { header });
    const info = await gzipInfo(`${file.seed}|${file.rows}|${header}`, source);
    return serveFile(
      ctx,
      {
        vendor: 'mytracker',
        size: info.bytes,
        chunksFrom: (start) => skipBytes(gzipChunks(source()), start),
        contentType: GZIP_TYPE,
        etag: `"${info.sha256.slice(0, 32)}"`,
        lastModified: new Date(Math.floor((exp.createdAt + config.exportDurationMs) / 1000) * 1000),
        supportRange: config.supportRange,
        bytesPerSec: config.downloadBytesPerSec,
        record: { rows: file.rows, encoding: 'gzip', decodedSha256: info.decodedSha256, seed: file.seed },
      },
      served,
    );
  }

  /** The idSegment a request is about (see SimRequest.subject). */
  function subject(ctx: Ctx, endpoint: string): string | undefined {
    if (endpoint === 'create') return ctx.url.searchParams.get('idSegment') ?? undefined;
    if (endpoint === 'get') return exports.get(ctx.url.searchParams.get('idSegmentExport') ?? '')?.idSegment;
    if (endpoint === 'download') {
      const file = filesByPath.get(ctx.url.pathname);
      return file ? exports.get(file.exportId)?.idSegment : undefined;
    }
    return undefined;
  }

  /** The storage host: a capability URL is the only credential; Authorization is ignored, no API quota. */
  async function handleStorage(ctx: Ctx, endpoint: string): Promise<unknown> {
    if (endpoint !== 'download' || !ctx.url.pathname.startsWith('/segment/')) return notFound(ctx, 'NoSuchKey');
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD')
      return sendJson(ctx, 405, envelope(405, 'Method Not Allowed', null), { Allow: 'GET' });
    if (config.storageRequiresSignature && !signedForStorage(ctx)) {
      const status = config.storageRefusalStatus;
      return sendJson(ctx, status, envelope(status, status === 401 ? 'Unauthorized' : 'Access denied', null));
    }
    return download(ctx);
  }

  /**
   * AuthHMAC over `GET&urlencode(link)&`, the link as requested on the storage host (storageRequiresSignature),
   * by the account whose API user id the header names.
   */
  function signedForStorage(ctx: Ctx): boolean {
    const account = accountOf(ctx.req.headers.authorization);
    const creds = account === 'default' ? config : account !== undefined ? config.accounts[account] : undefined;
    if (creds === undefined) return false;
    const fullUrl = `${ctx.base}${ctx.req.url ?? '/'}`;
    return verifyMytrackerAuthorization(ctx.req.headers.authorization, creds, 'GET', fullUrl, '');
  }

  async function handle(ctx: Ctx, endpoint: string): Promise<unknown> {
    if (ctx.onStorageHost) return handleStorage(ctx, endpoint);
    if (ctx.url.pathname.startsWith('/segment/')) return notFound(ctx, 'Method not found');
    const fullUrl = `${ctx.base}${ctx.req.url ?? '/'}`;
    const account = accountOf(ctx.req.headers.authorization);
    const creds = account === 'default' ? config : account !== undefined ? config.accounts[account] : undefined;
    const user = mytrackerUserOf(ctx.req.headers.authorization) ?? '(unsigned)';
    const answered = await handleSigned(ctx, endpoint, fullUrl, account, creds, user);
    if (ctx.res.statusCode >= 400) quotas.erroneous(user);
    return answered;
  }

  async function handleSigned(
    ctx: Ctx,
    endpoint: string,
    fullUrl: string,
    account: string | undefined,
    creds: { userId: string; secret: string } | undefined,
    user: string,
  ): Promise<unknown> {
    if (
      account === undefined ||
      creds === undefined ||
      !verifyMytrackerAuthorization(
        ctx.req.headers.authorization,
        creds,
        ctx.method,
        fullUrl,
        ctx.body.toString('utf8'),
      )
    ) {
      return sendJson(ctx, 403, envelope(403, 'Access denied', null));
    }
    ctx.log.account = account;
    if (endpoint === 'quotas' && ctx.method === 'GET') return sendJson(ctx, 200, quotasAnswer(user));
    const refusal = quotas.admit(user);
    if (refusal) return sendJson(ctx, 429, mytrackerQuotaBody(refusal));
    if (endpoint === 'other') return notFound(ctx, 'Method not found');
    const wantMethod = endpoint === 'create' ? 'POST' : 'GET';
    if (ctx.method !== wantMethod)
      return sendJson(ctx, 405, envelope(405, 'Method Not Allowed', null), { Allow: wantMethod });
    if (endpoint === 'create') return create(ctx, account);
    if (endpoint === 'get') return get(ctx, account);
    return download(ctx, account);
  }

  /** The account whose API user id the AuthHMAC header names (its signature is checked by the caller). */
  function accountOf(header: string | undefined): string | undefined {
    const userId = header ? /^AuthHMAC\s+([^:\s]+):/.exec(header)?.[1] : undefined;
    if (userId === undefined) return undefined;
    if (userId === config.userId) return 'default';
    return Object.entries(config.accounts).find(([, c]) => c.userId === userId)?.[0];
  }

  /**
   * The quota endpoint's answer: per window, requests counted and the limit, in the shape of the documented 429
   * body's `quotas` entries. Asking does not count against the quota here (the documentation does not say).
   */
  function quotasAnswer(user: string): Record<string, unknown> {
    return envelope(200, 'Ok', { quotas: quotas.current(user) });
  }

  return {
    config,
    served,
    route,
    subject,
    handle,
    exports: (): MyTrackerExport[] => [...exports.values()],
    /** Per-user quota counters with the most requests seen per window (admin `GET /__sim/quotas`). */
    quotas: (): Record<string, unknown> => quotas.snapshot(),
    /** Tells the simulator where its storage host listens (links point there with storageHost 'storage'). */
    setStorageBase(url: string | undefined): void {
      storageBase = url;
    },
    reset(): void {
      exports = new Map();
      filesByPath.clear();
      created = 0;
      quotas.reset();
    },
  };
}

export type MyTrackerSim = ReturnType<typeof createMyTracker>;
