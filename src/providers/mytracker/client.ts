import { FAILURE_TYPES } from '../../shared/failure-types';
import { ClassifiedError, snippet, where } from '../errors';
import { callVendor, checkShape, parseVendorJson, statusError, type VendorAnswer } from '../http';
import {
  LINK_EXPIRY_MARGIN_MS,
  MYTRACKER_PARAMS,
  MYTRACKER_PATHS,
  MYTRACKER_STATUS,
  mytrackerStatusMeaning,
} from './constants';
import { MyTrackerCreateData, MyTrackerEnvelope, MyTrackerErrorData, MyTrackerStatusData } from './schemas';
import { authorizationHeader, type MyTrackerCredentials } from './signing';
import type { JobPoll } from '../../shared/job-poll';

export interface MyTrackerSettings extends MyTrackerCredentials {
  baseUrl: string;
  /** The account's name, for metrics labels only (absent = `default`). */
  account?: string;
}

/** One file of a finished export: its link and when the link stops working. */
export interface MyTrackerLink {
  link: string;
  /** Unix seconds, as the vendor said. */
  expiresAt: number;
  /** Already past (or within a few seconds of) its expiry when the status was read. */
  expired: boolean;
}

/** "Error occurred" is its own state: it may pass, or mean the export is broken (the workflow counts them). */
export type MyTrackerExportState = JobPoll<{ files: MyTrackerLink[] }, { state: 'errorOccurred'; status: string }>;

type Endpoint = 'create.json' | 'get.json' | 'quotas/get.json';

/**
 * A small myTracker segment export client: every API call is signed with AuthHMAC; a file link is signed only
 * when it is on the API's own origin (object-storage links are capability URLs and get no credentials).
 */
export class MyTrackerClient {
  constructor(private readonly settings: MyTrackerSettings) {}

  /** Requests an export of a segment and returns its `idSegmentExport`. */
  async createExport(req: { segmentId: number; fields?: readonly string[] }, signal?: AbortSignal): Promise<string> {
    const params: Record<string, string> = {
      [MYTRACKER_PARAMS.segment]: String(req.segmentId),
      [MYTRACKER_PARAMS.headerLine]: '1',
    };
    if (req.fields && req.fields.length > 0) params[MYTRACKER_PARAMS.fields] = req.fields.join(',');
    const data = await this.call(
      'create.json',
      'POST',
      MYTRACKER_PATHS.createExport,
      params,
      `segment ${req.segmentId}`,
      signal,
    );
    return checkShape('mytracker', 'create.json', data, MyTrackerCreateData).idSegmentExport;
  }

  /** Reads an export's state once; "User error occurred", "Canceled by user" and unknown words throw final errors. */
  async exportStatus(exportId: string, signal?: AbortSignal): Promise<MyTrackerExportState> {
    const data = await this.call(
      'get.json',
      'GET',
      MYTRACKER_PATHS.exportStatus,
      { [MYTRACKER_PARAMS.exportId]: exportId },
      `export ${exportId}`,
      signal,
    );
    return interpretStatus(exportId, checkShape('mytracker', 'get.json', data, MyTrackerStatusData));
  }

  /**
   * The API user's quota counters, as the vendor sends them (`data`, shape not documented beyond the 429 body's
   * `quotas` entries): one cheap signed call that proves the credentials.
   */
  async quotas(signal?: AbortSignal): Promise<unknown> {
    return this.call('quotas/get.json', 'GET', MYTRACKER_PATHS.quotas, {}, 'quotas', signal);
  }

  /**
   * The URL and headers for downloading one file link. AuthHMAC signs a request for myTracker, so it goes only
   * to the API origin; a link on object storage (what real exports hand out) is fetched without credentials.
   * The header is a credential: never log it.
   */
  downloadTarget(link: string): { url: string; headers: Record<string, string> } {
    const url = resolveLink(this.settings.baseUrl, link);
    if (new URL(url).origin !== new URL(this.settings.baseUrl).origin) return { url, headers: {} };
    return { url, headers: { authorization: authorizationHeader(this.settings, 'GET', url) } };
  }

  /**
   * A file link signed wherever it points, as the vendor's Python client fetches every link (AuthHMAC over
   * `GET&urlencode(link)&`): the retry after object storage refused an unsigned request with 401/403. Only the
   * signature leaves the worker; the header is a credential, never logged.
   */
  signedDownloadTarget(link: string): { url: string; headers: Record<string, string> } {
    const url = resolveLink(this.settings.baseUrl, link);
    return { url, headers: { authorization: authorizationHeader(this.settings, 'GET', url) } };
  }

  private async call(
    endpoint: Endpoint,
    method: 'GET' | 'POST',
    path: string,
    params: Record<string, string>,
    subject: string,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const target = new URL(this.settings.baseUrl + path);
    for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
    // Sign exactly what goes on the wire: the serialised URL is what undici sends, unchanged.
    const url = target.toString();
    const answer = await callVendor({
      vendor: 'mytracker',
      account: this.settings.account,
      endpoint,
      method,
      url,
      headers: { authorization: authorizationHeader(this.settings, method, url), accept: 'application/json' },
      accept: [400, 401, 403, 404],
      signal,
    });
    if (answer.status === 401 || answer.status === 403) throw accessDenied(endpoint, answer.status);
    const envelope = parseVendorJson('mytracker', endpoint, answer, MyTrackerEnvelope);
    const code = answer.status >= 400 ? answer.status : envelope.code;
    if (code !== 200) throw bodyError(endpoint, code, envelope, answer, subject);
    return envelope.data;
  }
}

/** The status mapping table (the get.json page's words, docs/vendors/mytracker.md): one row per `data.status` word. Exported for unit tests. */
export function interpretStatus(exportId: string, data: MyTrackerStatusData, nowMs = Date.now()): MyTrackerExportState {
  const at = where('mytracker', 'get.json');
  const parsed = MyTrackerStatusData.parse(data);
  const details = { vendor: 'mytracker' as const, endpoint: 'get.json' };
  switch (mytrackerStatusMeaning(parsed.status)) {
    case 'inProgress':
      return { state: 'running', status: MYTRACKER_STATUS.inProgress, progress: parseProgress(parsed.progress) };
    case 'errorOccurred':
      return { state: 'errorOccurred', status: MYTRACKER_STATUS.errorOccurred };
    case 'userError': {
      const why = parsed.errorMessage ? `: ${snippet(parsed.errorMessage, 300)}` : '';
      throw new ClassifiedError(
        FAILURE_TYPES.jobFailed,
        `myTracker export ${exportId}: User error occurred${why}`,
        false,
        details,
      );
    }
    case 'canceled':
      throw new ClassifiedError(
        FAILURE_TYPES.jobFailed,
        `myTracker export ${exportId}: Canceled by user`,
        false,
        details,
      );
    case 'success': {
      const files = parsed.files ?? [];
      if (files.length === 0) {
        throw new ClassifiedError(
          FAILURE_TYPES.response,
          `${at} said "Success!" for export ${exportId} but listed no files`,
          false,
          details,
        );
      }
      return {
        state: 'done',
        status: MYTRACKER_STATUS.success,
        files: files.map((f) => ({
          link: f.link,
          expiresAt: f.timestampExpires,
          expired: isLinkExpired(f.timestampExpires, nowMs),
        })),
      };
    }
    case 'unknown':
      throw new ClassifiedError(
        FAILURE_TYPES.response,
        `${at} reported an unknown status "${snippet(parsed.status, 60)}" for export ${exportId}`,
        false,
        details,
      );
  }
}

/** `"64%"` -> 64; a number passes through; anything else (or out of 0..100) is unknown progress. */
export function parseProgress(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const match =
    typeof value === 'number' ? [String(value), String(value)] : /^\s*(\d+(?:[.,]\d+)?)\s*%?\s*$/.exec(value);
  if (!match) return null;
  const n = Number(match[1]!.replace(',', '.'));
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : null;
}

/** True when a link expiring at `expiresAtSec` cannot be counted on any more. */
export function isLinkExpired(expiresAtSec: number, nowMs = Date.now()): boolean {
  return expiresAtSec * 1000 - LINK_EXPIRY_MARGIN_MS <= nowMs;
}

/**
 * Resolves a file link from an authenticated get.json. Real links are on object storage, another host
 * (`https://rawdata.hb.bizmrg.com/segment/...`), so any https host is accepted; plain http only where the API
 * base itself is http (a test or a local proxy), so a secure deployment never downloads in the clear.
 */
export function resolveLink(baseUrl: string, link: string): string {
  const base = new URL(baseUrl);
  let target: URL;
  try {
    target = /^[a-z][a-z0-9+.-]*:/i.test(link)
      ? new URL(link)
      : new URL(baseUrl.replace(/\/+$/, '') + (link.startsWith('/') ? link : `/${link}`));
  } catch {
    throw badLink(`myTracker gave a download link that is not a URL: "${snippet(link, 80)}"`);
  }
  const allowed = target.protocol === 'https:' || (target.protocol === 'http:' && base.protocol === 'http:');
  if (!allowed) {
    throw badLink(
      `myTracker gave a download link with scheme "${target.protocol}" (host ${target.host}); only https` +
        `${base.protocol === 'http:' ? ' or http' : ''} links are fetched`,
    );
  }
  // Credentials in a link would be sent by the HTTP client as Basic auth; a capability URL needs none.
  target.username = '';
  target.password = '';
  return target.toString();
}

function badLink(message: string): ClassifiedError {
  return new ClassifiedError(FAILURE_TYPES.response, message, false, { vendor: 'mytracker', endpoint: 'download' });
}

function accessDenied(endpoint: Endpoint, status: number): ClassifiedError {
  return new ClassifiedError(
    FAILURE_TYPES.auth,
    `${where('mytracker', endpoint)}: Access denied (HTTP ${status}). Check MYTRACKER_API_USER_ID and ` +
      'MYTRACKER_API_SECRET in the worker environment (and that this API user may export segments)',
    false,
    { vendor: 'mytracker', endpoint, status },
  );
}

/** A non-200 `code` (or HTTP 400/404): the vendor's `detail` is the reason; 403 is bad credentials. */
function bodyError(
  endpoint: Endpoint,
  code: number,
  envelope: { message: string; data?: unknown },
  answer: VendorAnswer,
  subject: string,
): ClassifiedError {
  if (code === 401 || code === 403) return accessDenied(endpoint, code);
  const parsedDetail = MyTrackerErrorData.safeParse(envelope.data);
  const detail = parsedDetail.success ? parsedDetail.data.error.detail : envelope.message;
  const said = detail ? `: "${snippet(detail, 200)}"` : '';
  const at = where('mytracker', endpoint);
  if (code === 404) {
    return new ClassifiedError(FAILURE_TYPES.request, `${at}: ${subject} not found (HTTP 404)${said}`, false, {
      vendor: 'mytracker',
      endpoint,
      status: 404,
    });
  }
  if (code === 429 || code >= 500) return statusError('mytracker', endpoint, { ...answer, status: code });
  return new ClassifiedError(
    FAILURE_TYPES.request,
    `${at} rejected the request for ${subject} (code ${code})${said}`,
    false,
    {
      vendor: 'mytracker',
      endpoint,
      status: code,
    },
  );
}
