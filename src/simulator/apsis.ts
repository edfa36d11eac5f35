/**
 * Simulated APSIS One: OAuth client credentials, the profiles-in-segment report (poll a URL) and,
 * through apsis-profile.ts, the single-profile export (callbacks); docs/vendors/apsis.md.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { bearerToken, parseJson, sendEmpty, sendJson, type Ctx } from './http';
import { QuotaCounters, apsisQuotaRules } from './quotas';
import { createApsisProfiles, type ApsisProfileConfig } from './apsis-profile';
import { sendReportFile, type ApsisReport, type PollUrlKind } from './apsis-report-file';
import { segmentsBodyErrors } from './apsis-segment-body';
import type { ServedFile } from './types';

export { APSIS_CSV_TYPE, XLSX_TYPE, type ApsisReport } from './apsis-report-file';

export interface ApsisSimConfig extends ApsisProfileConfig {
  /** The `default` account's API client. */
  clientId: string;
  clientSecret: string;
  /** Named accounts served besides `default`: account name -> API client credentials. */
  accounts: Record<string, { clientId: string; clientSecret: string }>;
  tokenTtlSec: number;
  /**
   * Access tokens are JWTs whose `exp` claim says when they expire (as APSIS documents); false issues opaque
   * tokens, to play a client that must fall back to `expires_in` or its default.
   */
  jwtTokens: boolean;
  /**
   * Send the deprecated `expires_in` with each token. Default false: APSIS says to read `exp` and keeps
   * `expires_in` only "for backwards compatibility", so a client must work without it.
   */
  sendExpiresIn: boolean;
  /** The token endpoint's limit (the docs say about 10 a minute); 429 with Retry-After beyond it. */
  tokenRequestsPerMinute: number;
  /**
   * "Profile exports - up to 1 request per second" per account: report requests and single-profile exports.
   * 0 = not played. Off in the library's defaults (the test suites poll APSIS faster than 60/min); the simulator
   * a person runs (`exportflow simulate`, `dev --simulate`) plays them: APSIS_DOCUMENTED_LIMITS.
   */
  profileExportsPerSecond: number;
  /** "Export downloads - up to 60 requests per minute" per account: poll URLs and profile data. */
  exportDownloadsPerMinute: number;
  reportReadyAfterMs: number;
  /** Which response field carries the poll URL, and which status words that URL speaks. */
  pollUrlKind: PollUrlKind;
  pollUrlValidityMs: number;
  rowsFor?: (sectionDiscriminator: string) => number;
  rows: number;
  /** attributes + tags above this -> 413. */
  maxColumns: number;
  /** Request bodies above this -> 413. */
  maxBodyBytes: number;
  /** The first N reports created (since reset) answer 410 once due, as if the file was lost. */
  goneFirstReports: number;
  /** The first N reports created answer 503 (processing failed) instead of the file. */
  failFirstReports: number;
  supportRange: boolean;
  downloadBytesPerSec?: number;
  /** Refuse a report without `segments.filter` (the duplicates-export page's reading); see apsis-segment-body.ts. */
  requireFilter: boolean;
}

/** APSIS's documented per-account limits (developer.apsis.com/reference/limits), as the CLI's simulator plays them. */
export const APSIS_DOCUMENTED_LIMITS = { profileExportsPerSecond: 1, exportDownloadsPerMinute: 60 } as const;

export const APSIS_DEFAULTS: ApsisSimConfig = {
  clientId: 'sim-apsis-client',
  clientSecret: 'sim-apsis-secret',
  accounts: {},
  tokenTtlSec: 86400,
  jwtTokens: true,
  sendExpiresIn: false,
  tokenRequestsPerMinute: 10,
  profileExportsPerSecond: 0,
  exportDownloadsPerMinute: 0,
  reportReadyAfterMs: 1500,
  pollUrlKind: 'v2',
  pollUrlValidityMs: 24 * 3600 * 1000,
  rows: 50,
  maxColumns: 50,
  maxBodyBytes: 100 * 1024,
  goneFirstReports: 0,
  failFirstReports: 0,
  supportRange: false,
  requireFilter: true,
  callbackDelayMs: 300,
  duplicateCallback: false,
  omitCallback: false,
  forgedCallbackFirst: false,
  callbackRetries: 3,
  callbackRetryDelayMs: 500,
};

const REPORTS_PATH = '/audience/profiles/reports/segments';
const POLL_FIELD = { v2: 'file_download_url_v2', v1: 'file_download_url', poll_url: 'poll_url' } as const;

function problem(status: number, title: string, detail: string): Record<string, unknown> {
  return { type: 'about:blank', title, status, detail };
}

/**
 * A JWT-shaped access token: header.payload.signature, base64url each, with `exp` (and `iat`) in Unix seconds as
 * APSIS's tokens carry them. The signature is random bytes: clients are not meant to verify it.
 */
export function simJwt(subject: string, expiresAtMs: number): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = part({ alg: 'HS256', typ: 'JWT' });
  const payload = part({
    sub: subject,
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(expiresAtMs / 1000),
    jti: randomUUID(),
  });
  return `${header}.${payload}.${randomBytes(32).toString('base64url')}`;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);
}

export function createApsis(config: ApsisSimConfig, served: ServedFile[]) {
  let tokens = new Map<string, { expiry: number; account: string }>(); // access token -> expiry (ms), account
  /** Tokens withdrawn by expireTokens(status): answered with that status (401 or 403) instead of plain 401. */
  const refused = new Map<string, number>();
  let tokenRequests: number[] = [];
  let reports = new Map<string, ApsisReport>();
  let reportCount = 0;
  const profiles = createApsisProfiles(config);
  // Per account (this simulator serves one: its client id), as APSIS's limits page says.
  const quotas = {
    profileExports: new QuotaCounters(() => apsisQuotaRules(config).profileExports),
    exportDownloads: new QuotaCounters(() => apsisQuotaRules(config).exportDownloads),
  };

  function route(method: string, path: string): string | undefined {
    if (path === '/oauth/token') return 'token';
    if (path === REPORTS_PATH) return 'segment-report';
    if (path.startsWith(`${REPORTS_PATH}/`)) return 'poll';
    if (path.startsWith('/audience/profiles/export-single/'))
      return method === 'POST' ? 'export-single' : 'profile-data';
    if (path.startsWith('/audience/') || path.startsWith('/oauth/')) return 'other';
    return undefined;
  }

  async function token(ctx: Ctx): Promise<unknown> {
    const now = Date.now();
    tokenRequests = tokenRequests.filter((t) => now - t < 60_000);
    if (tokenRequests.length >= config.tokenRequestsPerMinute) {
      const retry = Math.max(1, Math.ceil(((tokenRequests[0] ?? now) + 60_000 - now) / 1000));
      return sendJson(ctx, 429, problem(429, 'Too Many Requests', 'Token request limit exceeded'), {
        'Retry-After': String(retry),
      });
    }
    tokenRequests.push(now);
    const body = parseJson(ctx);
    if (typeof body !== 'object' || body === null)
      return sendJson(ctx, 400, { error: 'invalid_request', error_description: 'JSON body expected' });
    const b = body as Record<string, unknown>;
    if (b.grant_type !== 'client_credentials')
      return sendJson(ctx, 400, {
        error: 'unsupported_grant_type',
        error_description: 'grant_type must be client_credentials',
      });
    const match = Object.entries({ default: config, ...config.accounts }).find(
      ([, c]) => b.client_id === c.clientId && b.client_secret === c.clientSecret,
    );
    if (match === undefined) {
      return sendJson(ctx, 401, { error: 'invalid_client', error_description: 'Invalid client credentials' });
    }
    const [account, { clientId }] = match;
    ctx.log.account = account;
    const expiresAt = now + config.tokenTtlSec * 1000;
    const accessToken = config.jwtTokens ? simJwt(clientId, expiresAt) : `sim.${randomBytes(24).toString('base64url')}`;
    tokens.set(accessToken, { expiry: expiresAt, account });
    return sendJson(ctx, 200, {
      access_token: accessToken,
      ...(config.sendExpiresIn ? { expires_in: config.tokenTtlSec } : {}),
      token_type: 'Bearer',
    });
  }

  /**
   * The account of a valid bearer token, recorded on the request; otherwise the status to refuse it with (401,
   * or 403 for a token withdrawn by expireTokens(403)).
   */
  function authorized(ctx: Ctx): { account: string } | { refuse: number } {
    const t = bearerToken(ctx);
    const issued = t === undefined ? undefined : tokens.get(t);
    if (issued === undefined || issued.expiry <= Date.now())
      return { refuse: (t !== undefined && refused.get(t)) || 401 };
    ctx.log.account = issued.account;
    return { account: issued.account };
  }

  async function createReport(ctx: Ctx): Promise<unknown> {
    if (ctx.bodyTooLarge || ctx.body.length > config.maxBodyBytes) {
      return sendJson(ctx, 413, problem(413, 'Payload Too Large', 'Request body too large'));
    }
    const body = parseJson(ctx);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return sendJson(ctx, 400, problem(400, 'Bad Request', 'JSON object expected'));
    const b = body as Record<string, unknown>;
    const bad = (detail: string): Promise<unknown> => sendJson(ctx, 400, problem(400, 'Bad Request', detail));
    if (typeof b.section_discriminator !== 'string' || b.section_discriminator === '')
      return bad('section_discriminator is required');
    const errors = segmentsBodyErrors(b.segments, { requireFilter: config.requireFilter });
    if (errors) return sendJson(ctx, 400, { ...problem(400, 'One or more validation errors occurred.', ''), errors });
    const segments = b.segments as Record<string, unknown>;
    const values = Object.values(segments.segment_discriminators as Record<string, string>);
    if (segments.timezone !== undefined && typeof segments.timezone !== 'string')
      return bad('segments.timezone must be a string');
    if (b.attributes !== undefined && !isStringArray(b.attributes))
      return bad('attributes must be an array of discriminators');
    if (b.tags !== undefined && !isStringArray(b.tags)) return bad('tags must be an array of discriminators');
    const columns =
      ((b.attributes as string[] | undefined) ?? []).length + ((b.tags as string[] | undefined) ?? []).length;
    if (columns > config.maxColumns)
      return sendJson(ctx, 413, problem(413, 'Payload Too Large', 'Too many attributes and tags requested'));

    const id = randomUUID();
    const kind = config.pollUrlKind;
    const section = b.section_discriminator;
    const report: ApsisReport = {
      id,
      account: ctx.log.account,
      kind,
      pollPath: kind === 'v2' ? `${REPORTS_PATH}/v2/${id}` : `${REPORTS_PATH}/${id}`,
      createdAt: Date.now(),
      section,
      seed: `apsis:${section}:${(values as string[]).slice().sort().join('|')}`,
      rows: config.rowsFor ? config.rowsFor(section) : config.rows,
      gone: reportCount < config.goneFirstReports,
      failing: reportCount < config.failFirstReports,
      request: b,
    };
    reportCount++;
    reports.set(id, report);
    return sendJson(ctx, 200, {
      id,
      [POLL_FIELD[kind]]: `${ctx.base}${report.pollPath}`,
      expires_at: new Date(report.createdAt + config.pollUrlValidityMs).toISOString(),
    });
  }

  async function poll(ctx: Ctx): Promise<unknown> {
    const rest = ctx.url.pathname.slice(REPORTS_PATH.length + 1);
    const isV2 = rest.startsWith('v2/');
    const found = reports.get(isV2 ? rest.slice(3) : rest);
    // Report ids are per account: another account's report answers as an invalid id.
    if (found && found.account !== ctx.log.account) ctx.log.foreign = true;
    const report = found?.account === ctx.log.account ? found : undefined;
    const valid = report !== undefined && (report.kind === 'v2') === isV2;
    if (!report || !valid) {
      // Older URLs answer 410 for an invalid id; _v2 URLs answer 404.
      return isV2
        ? sendJson(ctx, 404, problem(404, 'Not Found', 'Invalid report id'))
        : sendJson(ctx, 410, problem(410, 'Gone', 'Report not available or id invalid'));
    }
    const age = Date.now() - report.createdAt;
    if (age > config.pollUrlValidityMs) return sendJson(ctx, 410, problem(410, 'Gone', 'Report expired'));
    if (age < config.reportReadyAfterMs) {
      return isV2
        ? sendEmpty(ctx, 202, { 'Retry-After': '1' })
        : sendJson(ctx, 404, problem(404, 'Not Found', 'Report not ready yet'));
    }
    if (report.gone) return sendJson(ctx, 410, problem(410, 'Gone', 'Report file is no longer available'));
    if (report.failing) return sendJson(ctx, 503, problem(503, 'Service Unavailable', 'Report processing failed'));
    return sendReportFile(ctx, report, config, served);
  }

  /** The report's section or the profile's export key a request is about (see SimRequest.subject). */
  function subject(ctx: Ctx, endpoint: string): string | undefined {
    if (endpoint === 'segment-report') {
      const body = parseJson(ctx) as Record<string, unknown> | undefined;
      return typeof body?.section_discriminator === 'string' ? body.section_discriminator : undefined;
    }
    if (endpoint === 'poll') {
      const rest = ctx.url.pathname.slice(REPORTS_PATH.length + 1);
      return reports.get(rest.startsWith('v2/') ? rest.slice(3) : rest)?.section;
    }
    if (endpoint === 'export-single' || endpoint === 'profile-data') return profiles.subject(ctx, endpoint);
    return undefined;
  }

  async function handle(ctx: Ctx, endpoint: string): Promise<unknown> {
    if (endpoint === 'other') return sendJson(ctx, 404, problem(404, 'Not Found', 'No such endpoint'));
    const wantMethod = endpoint === 'poll' || endpoint === 'profile-data' ? 'GET' : 'POST';
    if (ctx.method !== wantMethod)
      return sendJson(ctx, 405, problem(405, 'Method Not Allowed', `Use ${wantMethod}`), { Allow: wantMethod });
    if (endpoint === 'token') return token(ctx);
    const auth = authorized(ctx);
    if ('refuse' in auth && auth.refuse === 403)
      return sendJson(ctx, 403, problem(403, 'Forbidden', 'Access token not accepted'));
    if ('refuse' in auth) {
      return sendJson(ctx, 401, problem(401, 'Unauthorized', 'Missing, invalid or expired access token'), {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }
    const counter =
      endpoint === 'segment-report' || endpoint === 'export-single' ? quotas.profileExports : quotas.exportDownloads;
    const refusal = counter.admit(config.clientId);
    if (refusal) {
      return sendJson(ctx, 429, problem(429, 'Too Many Requests', `${refusal.quotas[0]!.name} limit reached`), {
        'Retry-After': String(refusal.quotas[0]!.resetInSecond),
      });
    }
    if (endpoint === 'segment-report') return createReport(ctx);
    if (endpoint === 'poll') return poll(ctx);
    if (endpoint === 'export-single') return profiles.requestExport(ctx);
    return profiles.serveData(ctx);
  }

  return {
    config,
    served,
    route,
    subject,
    handle,
    reports: (): ApsisReport[] => [...reports.values()],
    /** Per-account quota counters (admin `GET /__sim/quotas`). */
    quotas: (): Record<string, unknown> => ({
      profileExports: quotas.profileExports.snapshot(),
      exportDownloads: quotas.exportDownloads.snapshot(),
    }),
    profileExports: profiles.exports,
    callbacksSent: profiles.callbacksSent,
    /**
     * Invalidates every access token issued so far, so the next call with one gets `status` (401 by default, or
     * 403 as APSIS may answer) and the client must fetch a new token.
     */
    expireTokens(status: 401 | 403 = 401): void {
      for (const t of tokens.keys()) refused.set(t, status);
      tokens = new Map();
    },
    /** Stops pending callback deliveries (reset and close). */
    stop(): void {
      profiles.stop();
    },
    /** Issued access tokens stay valid across reset: a running worker's cached token keeps working. */
    reset(): void {
      tokenRequests = [];
      quotas.profileExports.reset();
      quotas.exportDownloads.reset();
      reports = new Map();
      reportCount = 0;
      profiles.reset();
    },
  };
}

export type ApsisSim = ReturnType<typeof createApsis>;
