import { FAILURE_TYPES } from '../../shared/failure-types';
import { ClassifiedError, snippet, where } from '../errors';
import { callVendor, parseVendorJson } from '../http';
import {
  APSIS_ENDPOINTS,
  APSIS_PATHS,
  TOKEN_REFUSED_STATUSES,
  CSV_CONTENT_TYPE,
  POLL_STATUS,
  POLL_URL_FIELDS,
  POLL_URL_KIND,
  POLL_URL_VALIDITY_MS,
  REPORT_FORMATS,
  XLSX_CONTENT_TYPE,
  type PollUrlKind,
  type ReportFormat,
} from './constants';
import { ApsisReportAnswer, type ApsisProfileExportRequest, type ApsisReportRequest } from './schemas';
import { apsisTokens, type ApsisCredentials, type ApsisTokenCache } from './token';

type Headers = Record<string, string | string[] | undefined>;

/** A requested profiles-in-segment report: where to poll it and until when that URL is valid. */
export interface SegmentReport {
  reportId: string;
  pollUrl: string;
  pollKind: PollUrlKind;
  /** ISO time after which the poll URL is no longer valid. */
  validUntil: string;
  /** ISO time the report was requested: an older poll URL's 404 means "not ready" only for a while after it. */
  requestedAt: string;
}

/** How to GET a report's poll URL in one format; the download engine runs it with the bearer header added. */
export interface ReportPollSpec {
  url: string;
  headers: Record<string, string>;
  extension: string;
  countCsvRows: boolean;
  contentTypeFallback: string;
  notReadyStatuses: readonly number[];
  classifyStatus: (status: number, bodyText: string) => ClassifiedError | undefined;
  checkResponse: (headers: Headers) => ClassifiedError | undefined;
}

/** A small APSIS One client: OAuth token handling, report requests and poll specs, single-profile exports. */
export class ApsisClient {
  constructor(
    private readonly creds: ApsisCredentials,
    private readonly tokens: ApsisTokenCache = apsisTokens,
  ) {}

  /**
   * Runs `call` with the bearer header. A 401 or 403 from the API gets one new token and one more try (APSIS's
   * own PrestaShop module refreshes on both); if the new token is refused too, that is a final auth error saying
   * so. A failing token endpoint is reported as such.
   */
  async withToken<T>(call: (auth: { authorization: string }) => Promise<T>): Promise<T> {
    const token = await this.tokens.get(this.creds);
    let first: ClassifiedError;
    try {
      return await call({ authorization: `Bearer ${token}` });
    } catch (err) {
      if (!isTokenRefusal(err)) throw err;
      first = err;
    }
    const fresh = await this.tokens.refresh(this.creds, token);
    try {
      return await call({ authorization: `Bearer ${fresh}` });
    } catch (err) {
      if (!isTokenRefusal(err)) throw err;
      throw tokenRefusedTwice(first, err);
    }
  }

  /** Requests a profiles-in-segment report; 413 (too many columns) is a final error saying what to change. */
  async requestSegmentReport(body: ApsisReportRequest, now = Date.now(), signal?: AbortSignal): Promise<SegmentReport> {
    const endpoint = APSIS_ENDPOINTS.segmentReport;
    const answer = await this.withToken((auth) =>
      callVendor({
        vendor: 'apsis',
        account: this.creds.account,
        endpoint,
        method: 'POST',
        url: this.creds.baseUrl + APSIS_PATHS.segmentReport,
        headers: { ...auth, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        accept: [400, 413],
        signal,
      }),
    );
    if (answer.status === 400) throw reportBodyRejected(answer.text);
    if (answer.status === 413) {
      throw new ClassifiedError(
        FAILURE_TYPES.request,
        `${where('apsis', endpoint)} refused the report request as too large (HTTP 413): ask for fewer attributes and tags (--attribute/--tag); this many columns is not supported`,
        false,
        { vendor: 'apsis', endpoint, status: 413 },
      );
    }
    return interpretReportAnswer(
      this.creds.baseUrl,
      parseVendorJson('apsis', endpoint, answer, ApsisReportAnswer),
      now,
    );
  }

  /** How to poll a report URL for one format, with each status read as APSIS documents it for that URL kind. */
  reportPollSpec(
    report: Pick<SegmentReport, 'pollUrl' | 'pollKind' | 'reportId'>,
    format: ReportFormat,
  ): ReportPollSpec {
    const url = sameOriginUrl(this.creds.baseUrl, report.pollUrl, APSIS_ENDPOINTS.reportPoll);
    const wanted = REPORT_FORMATS[format];
    return {
      url,
      headers: { ...wanted.headers },
      extension: wanted.extension,
      countCsvRows: wanted.countRows,
      contentTypeFallback: format === 'xlsx' ? XLSX_CONTENT_TYPE : CSV_CONTENT_TYPE,
      notReadyStatuses: POLL_STATUS.notReady[report.pollKind],
      classifyStatus: (status, text) => classifyPollStatus(report.reportId, report.pollKind, status, text),
      checkResponse: (headers) => checkReportFormat(format, headers),
    };
  }

  /** Asks for a single-profile export; APSIS answers 202 and later calls `callback_url`. */
  async requestProfileExport(exportKey: string, body: ApsisProfileExportRequest, signal?: AbortSignal): Promise<void> {
    const endpoint = APSIS_ENDPOINTS.exportSingle;
    await this.withToken((auth) =>
      callVendor({
        vendor: 'apsis',
        account: this.creds.account,
        endpoint,
        method: 'POST',
        url: this.creds.baseUrl + APSIS_PATHS.exportSingle + encodeURIComponent(exportKey),
        headers: { ...auth, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal,
      }),
    );
  }

  /** The data URL of a code-200 callback, only if it is on the configured APSIS origin (the token goes with it). */
  profileDataUrl(dataUrl: string): string {
    return sameOriginUrl(this.creds.baseUrl, dataUrl, APSIS_ENDPOINTS.profileData);
  }
}

/** Picks the poll URL (newest field first) and its validity out of a report answer. Exported for unit tests. */
export function interpretReportAnswer(baseUrl: string, answer: ApsisReportAnswer, now: number): SegmentReport {
  const fields = answer as Record<string, unknown>;
  const field = POLL_URL_FIELDS.find((f) => typeof fields[f] === 'string' && fields[f] !== '')!;
  const pollUrl = sameOriginUrl(baseUrl, fields[field] as string, APSIS_ENDPOINTS.reportPoll);
  const dayLater = now + POLL_URL_VALIDITY_MS;
  const expiresAt = answer.expires_at ? Date.parse(answer.expires_at) : NaN;
  // The docs promise a day; an earlier expiry stated in the answer wins, a past or unreadable one is ignored.
  const validUntil = Number.isFinite(expiresAt) && expiresAt > now ? Math.min(expiresAt, dayLater) : dayLater;
  const reportId =
    answer.id !== undefined ? String(answer.id) : (new URL(pollUrl).pathname.split('/').filter(Boolean).pop() ?? field);
  return {
    reportId,
    pollUrl,
    pollKind: POLL_URL_KIND[field],
    validUntil: new Date(validUntil).toISOString(),
    requestedAt: new Date(now).toISOString(),
  };
}

/** Status meanings on a poll URL (docs/vendors/apsis.md); undefined leaves the engine's default mapping. */
export function classifyPollStatus(
  reportId: string,
  kind: PollUrlKind,
  status: number,
  text: string,
): ClassifiedError | undefined {
  const at = where('apsis', APSIS_ENDPOINTS.reportPoll);
  const details = { vendor: 'apsis' as const, endpoint: APSIS_ENDPOINTS.reportPoll, status };
  const said = text ? `: ${snippet(text)}` : '';
  if (kind === 'v2' && status === POLL_STATUS.invalidV2) {
    return new ClassifiedError(
      FAILURE_TYPES.response,
      `${at} says report ${reportId} is invalid (HTTP 404)${said}`,
      false,
      details,
    );
  }
  if (status === POLL_STATUS.gone) {
    return new ClassifiedError(
      FAILURE_TYPES.gone,
      `${at}: report ${reportId} is gone or expired (HTTP 410)${said}`,
      false,
      details,
    );
  }
  if (status === POLL_STATUS.failed) {
    return new ClassifiedError(
      FAILURE_TYPES.jobFailed,
      `${at}: processing of report ${reportId} failed on APSIS's side (HTTP 503)${said}`,
      false,
      details,
    );
  }
  return undefined;
}

/** A 200 answer must be the format asked for; storing HTML or CSV under `.xlsx` would be a silent lie. */
export function checkReportFormat(format: ReportFormat, headers: Headers): ClassifiedError | undefined {
  const contentType = (first(headers['content-type']) ?? '').toLowerCase();
  const encoding = (first(headers['content-encoding']) ?? 'identity').trim().toLowerCase();
  let problem: string | undefined;
  if (/^text\/html|^application\/(problem\+)?json/.test(contentType)) problem = `a ${contentType.split(';')[0]} page`;
  else if (format === 'xlsx' && !contentType.startsWith(XLSX_CONTENT_TYPE)) problem = `Content-Type "${contentType}"`;
  else if (format !== 'xlsx' && contentType.startsWith(XLSX_CONTENT_TYPE)) problem = 'an XLSX file';
  else if (format === 'csv.gz' && encoding !== 'gzip') problem = `Content-Encoding "${encoding}"`;
  else if (format !== 'csv.gz' && encoding !== 'identity') problem = `Content-Encoding "${encoding}"`;
  if (!problem) return undefined;
  return new ClassifiedError(
    FAILURE_TYPES.response,
    `${where('apsis', APSIS_ENDPOINTS.reportPoll)} was asked for ${format} but answered with ${problem}`,
    false,
    { vendor: 'apsis', endpoint: APSIS_ENDPOINTS.reportPoll, status: 200 },
  );
}

/**
 * Resolves a URL the vendor gave us against the base URL and insists on the same origin: the bearer token is
 * sent with it, so a URL on any other host (a forged callback, a hijacked answer) is refused before any request.
 */
export function sameOriginUrl(baseUrl: string, url: string, endpoint: string): string {
  let target: URL;
  try {
    target = new URL(url, `${baseUrl.replace(/\/+$/, '')}/`);
  } catch {
    throw new ClassifiedError(
      FAILURE_TYPES.response,
      `${where('apsis', endpoint)} is not a URL: "${snippet(url, 80)}"`,
      false,
      {
        vendor: 'apsis',
        endpoint,
      },
    );
  }
  const base = new URL(baseUrl);
  if (target.origin !== base.origin) {
    throw new ClassifiedError(
      FAILURE_TYPES.response,
      `${where('apsis', endpoint)} is on another host (${target.origin}, configured APSIS_BASE_URL is ${base.origin}); refusing to send the access token there`,
      false,
      { vendor: 'apsis', endpoint },
    );
  }
  return target.toString();
}

/** A 401/403 from an APSIS call made with a bearer token: the token may be stale, worth one refresh. */
function isTokenRefusal(err: unknown): err is ClassifiedError {
  return (
    err instanceof ClassifiedError &&
    err.details.status !== undefined &&
    TOKEN_REFUSED_STATUSES.includes(err.details.status)
  );
}

/** The final error once a freshly issued token was refused as well: no third token, no loop. */
function tokenRefusedTwice(first: ClassifiedError, second: ClassifiedError): ClassifiedError {
  const endpoint = second.details.endpoint ?? first.details.endpoint ?? 'API';
  return new ClassifiedError(
    FAILURE_TYPES.auth,
    `${where('apsis', endpoint)} refused the access token (HTTP ${first.details.status}) and then a newly issued one too (HTTP ${second.details.status}); check that APSIS_CLIENT_ID/APSIS_CLIENT_SECRET belong to an API key with access to this section and account. Last answer: ${second.message}`,
    false,
    { vendor: 'apsis', endpoint, status: second.details.status },
  );
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A 400 to a report request: APSIS did not take the body (a segment name, the filter, a discriminator). Final,
 * and it quotes APSIS: a problem document's `errors` per field (`segments.filter: ...`), else its detail/title.
 */
export function reportBodyRejected(text: string): ClassifiedError {
  const endpoint = APSIS_ENDPOINTS.segmentReport;
  let said = snippet(text, 300);
  try {
    const problem = JSON.parse(text) as { errors?: unknown; detail?: unknown; title?: unknown; message?: unknown };
    const fields =
      problem.errors && typeof problem.errors === 'object' && !Array.isArray(problem.errors)
        ? Object.entries(problem.errors as Record<string, unknown>).map(
            ([field, why]) => `${field}: ${Array.isArray(why) ? why.join(' ') : String(why)}`,
          )
        : [];
    const words = [problem.detail, problem.title, problem.message].find((w) => typeof w === 'string' && w !== '');
    if (fields.length > 0) said = snippet(fields.join('; '), 400);
    else if (typeof words === 'string') said = snippet(words, 300);
  } catch {
    // Not JSON: the raw text (shortened) is what APSIS said.
  }
  return new ClassifiedError(
    FAILURE_TYPES.request,
    `${where('apsis', endpoint)} rejected the report request body (HTTP 400): APSIS says "${said}"`,
    false,
    { vendor: 'apsis', endpoint, status: 400 },
  );
}
