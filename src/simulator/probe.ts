/**
 * Raw HTTP probes for tests of the simulator itself: node:http with no decoding, no redirects and no pooled
 * connections, so a test sees exactly the bytes, headers and cut connections the simulator produced.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { mytrackerAuthorization } from './mytracker-auth';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body arrived whole (false when the connection was cut). */
  complete: boolean;
  /** Set when the request failed or the connection broke. */
  error?: string;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export function rawRequest(url: string, opts: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (r: RawResponse): void => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = (error?: string): void =>
        finish({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          complete: res.complete,
          ...(error ? { error } : {}),
        });
      res.on('end', () => done());
      res.on('error', (e) => done(e.message));
      res.on('close', () => done(res.complete ? undefined : 'connection closed before the body was complete'));
    });
    req.on('error', (e) =>
      finish({ status: 0, headers: {}, body: Buffer.concat(chunks), complete: false, error: e.message }),
    );
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** A myTracker request signed over exactly the URL and body sent. */
export function signedRequest(
  url: string,
  creds: { userId: string; secret: string },
  opts: RawOptions = {},
): Promise<RawResponse> {
  const method = opts.method ?? 'GET';
  const body = opts.body === undefined ? '' : opts.body.toString();
  const auth = mytrackerAuthorization(creds.userId, creds.secret, method, url, body);
  return rawRequest(url, { ...opts, method, headers: { ...opts.headers, Authorization: auth } });
}

/** The body as JSON; `any` on purpose: tests read vendor shapes field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function json(res: RawResponse): any {
  return JSON.parse(res.body.toString('utf8'));
}
