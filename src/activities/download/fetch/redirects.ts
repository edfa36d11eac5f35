import { request, type Dispatcher } from 'undici';
import { ClassifiedError, redactUrl, type Vendor } from '../../../providers/errors';
import { FAILURE_TYPES } from '../../../shared/failure-types';
import { networkError } from '../../../providers/http';
import { observeHttp } from '../../../providers/observe';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface FollowRequest {
  vendor: Vendor;
  /** For messages: `Altcraft download of data.csv`. */
  label: string;
  url: string;
  /** Vendor credentials: sent only while the request stays on the original URL's origin. */
  credentials: Record<string, string>;
  /** Headers every hop keeps (Range, If-Range). */
  headers: Record<string, string>;
  /** 0 answers a redirect as any other status (the caller's error mapping decides). */
  maxRedirects: number;
  signal?: AbortSignal;
  dispatcher: Dispatcher;
}

export interface Followed {
  res: Dispatcher.ResponseData;
  /** The URL that answered (after redirects). */
  url: string;
  /** Whether the answering URL shares the original URL's origin, so credentials went along. */
  credentialsSent: boolean;
}

/**
 * GET with bounded redirect following. Vendors hand out links that redirect to object storage on another
 * host: the vendor's credentials must not travel there, so they are dropped at the first hop that leaves the
 * original origin and never sent again (even if a later hop comes back). Only https is followed, or http when
 * the original URL was http (local test servers).
 */
export async function requestFollowingRedirects(req: FollowRequest): Promise<Followed> {
  const origin = new URL(req.url);
  let url = req.url;
  let credentialsSent = true;
  for (let hop = 0; ; hop++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        headers: credentialsSent ? { ...req.credentials, ...req.headers } : { ...req.headers },
        signal: req.signal,
        dispatcher: req.dispatcher,
      });
    } catch (err) {
      observeHttp(req.vendor, 'download', 0);
      throw networkError(req.label, req.vendor, 'download', err);
    }
    observeHttp(req.vendor, 'download', res.statusCode);
    const location = headerOf(res.headers, 'location');
    if (req.maxRedirects <= 0 || !REDIRECT_STATUSES.has(res.statusCode) || !location) {
      return { res, url, credentialsSent };
    }
    await res.body.dump().catch(() => undefined);
    if (hop >= req.maxRedirects) {
      throw redirectError(req, `was redirected more than ${req.maxRedirects} times (last at ${redactUrl(url)})`);
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw redirectError(req, `was redirected to an invalid location by ${redactUrl(url)}`);
    }
    const allowed = next.protocol === 'https:' || (next.protocol === 'http:' && origin.protocol === 'http:');
    if (!allowed) {
      throw redirectError(req, `was redirected to a ${next.protocol} URL, which is not followed`);
    }
    if (next.origin !== origin.origin) credentialsSent = false;
    url = next.toString();
  }
}

function redirectError(req: FollowRequest, what: string): ClassifiedError {
  return new ClassifiedError(FAILURE_TYPES.response, `${req.label} ${what}`, false, {
    vendor: req.vendor,
    endpoint: 'download',
  });
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
