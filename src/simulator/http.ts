/**
 * Request context and response writers shared by the simulated vendors. Every answer goes through
 * `sendStream`, so body faults (truncate, wrong Content-Length) and throttling work on any endpoint.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BodyFault } from './faults';
import type { SimRequest } from './types';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Parsed URL (host from the Host header). */
  url: URL;
  /** `http://host:port` as the client addressed us; absolute URLs we hand out use it. */
  base: string;
  body: Buffer;
  /** The body was larger than the read limit; `body` holds only its start. */
  bodyTooLarge: boolean;
  log: SimRequest;
  bodyFault?: BodyFault;
  /** The request came to the simulated object-storage host (myTracker file links), not the API host. */
  onStorageHost?: boolean;
}

const BODY_LIMIT = 1024 * 1024;

/** Reads the request body, keeping at most 1 MiB (the rest is drained so the connection stays usable). */
export async function readBody(req: IncomingMessage): Promise<{ body: Buffer; tooLarge: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) tooLarge = true;
    else parts.push(chunk);
  }
  return { body: Buffer.concat(parts), tooLarge };
}

const SECRET_QUERY_KEYS = new Set(['token', 'access_token', 'secret', 'client_secret', 'api_key', 'signature']);

/** The path+query as sent, with secret query values replaced by '***' (the log must never hold a secret). */
export function redactPath(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  if (q < 0) return rawUrl;
  const parts = rawUrl
    .slice(q + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq);
      let name = key;
      try {
        name = decodeURIComponent(key);
      } catch {
        /* keep the raw key */
      }
      return SECRET_QUERY_KEYS.has(name.toLowerCase()) ? `${key}=***` : part;
    });
  return `${rawUrl.slice(0, q)}?${parts.join('&')}`;
}

/** Parses a JSON body; undefined when it is not JSON. */
export function parseJson(ctx: Ctx): unknown {
  try {
    return JSON.parse(ctx.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function bearerToken(ctx: Ctx): string | undefined {
  const auth = ctx.req.headers.authorization;
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return m?.[1];
}

export function sendJson(
  ctx: Ctx,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const buf = Buffer.from(JSON.stringify(body));
  return sendStream(ctx, {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
    chunks: [buf],
    length: buf.length,
  });
}

export function sendText(
  ctx: Ctx,
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
  headers: Record<string, string> = {},
): Promise<unknown> {
  const buf = Buffer.from(text);
  return sendStream(ctx, {
    status,
    headers: { 'Content-Type': contentType, ...headers },
    chunks: [buf],
    length: buf.length,
  });
}

export function sendEmpty(ctx: Ctx, status: number, headers: Record<string, string> = {}): Promise<unknown> {
  return sendStream(ctx, { status, headers, chunks: [], length: 0 });
}

export interface StreamSpec {
  status: number;
  headers: Record<string, string>;
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>;
  /** Known body length: sent as Content-Length; omitted: chunked transfer encoding. */
  length?: number;
  /** Throttle the body to about this many bytes per second. */
  bytesPerSec?: number;
  /**
   * Called once the whole body has been handed to the socket, before the client can see the response end,
   * so a client that just finished reading always finds the file in `served`.
   */
  onComplete?: (sent: { bytes: number; sha256: string }) => void;
}

export interface StreamResult {
  /** The whole body went out and the response ended normally. */
  complete: boolean;
  bytes: number;
  sha256: string;
}

/** Writes a response body with backpressure, hashing what was sent; applies the request's body fault. */
export async function sendStream(ctx: Ctx, spec: StreamSpec): Promise<StreamResult> {
  const { res } = ctx;
  const hash = createHash('sha256');
  let sent = 0;
  let chunks = spec.chunks;
  let length = spec.length;
  const fault = ctx.bodyFault;
  if (fault?.kind === 'wrongLength' && length === undefined) {
    // A lie about the length needs the true length first: buffer (only chunked bodies get here, small in tests).
    const all: Buffer[] = [];
    for await (const c of chunks) all.push(c);
    chunks = all;
    length = all.reduce((n, c) => n + c.length, 0);
  }
  let limit = Infinity;
  let cutAfter = false;
  if (fault?.kind === 'truncate') {
    limit = fault.afterBytes;
    cutAfter = true;
  } else if (fault?.kind === 'wrongLength' && length !== undefined) {
    const delta = fault.delta ?? 16;
    const claimed = Math.max(0, length + delta);
    res.setHeader('Connection', 'close');
    if (delta > 0) cutAfter = true; // otherwise the client would wait forever for the missing bytes
    limit = Math.min(length, claimed);
    length = claimed;
  }
  res.statusCode = spec.status;
  ctx.log.status = spec.status; // visible at once to in-process tests; a cut before the headers resets it to 0
  for (const [k, v] of Object.entries(spec.headers)) res.setHeader(k, v);
  if (length !== undefined) res.setHeader('Content-Length', String(length));
  const noBody = spec.status === 204 || spec.status === 304 || ctx.method === 'HEAD';
  let aborted = false;
  let completed = false;
  const complete = (): void => {
    if (completed || limit !== Infinity) return;
    completed = true;
    spec.onComplete?.({ bytes: sent, sha256: hash.copy().digest('hex') });
  };
  if (!noBody) {
    for await (const chunk of rechunk(chunks, spec.bytesPerSec)) {
      if (res.destroyed) {
        aborted = true;
        break;
      }
      const piece = sent + chunk.length > limit ? chunk.subarray(0, Math.max(0, limit - sent)) : chunk;
      if (piece.length > 0) {
        hash.update(piece);
        sent += piece.length;
        const written = writeChunk(res, piece); // res.write runs now; only the drain is awaited
        if (sent === length) complete();
        if (!(await written)) {
          aborted = true;
          break;
        }
        if (spec.bytesPerSec) await pause(ctx, 50);
      }
      if (sent >= limit) break;
    }
  }
  if (cutAfter && !aborted) {
    if (!res.headersSent) res.flushHeaders();
    // end() sends what is queued, then FIN: the client gets the first bytes and then a premature close.
    const socket = ctx.req.socket;
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
    return { complete: false, bytes: sent, sha256: hash.digest('hex') };
  }
  if (aborted || res.destroyed) return { complete: false, bytes: sent, sha256: hash.digest('hex') };
  if (!noBody) complete(); // chunked bodies: the terminating chunk goes out with end()
  await new Promise<void>((resolve) => res.end(() => resolve()));
  return { complete: limit === Infinity, bytes: sent, sha256: hash.digest('hex') };
}

/** Splits chunks into ~50 ms slices when throttled, so a test can kill a client part way through. */
async function* rechunk(
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
  bytesPerSec?: number,
): AsyncGenerator<Buffer> {
  const slice = bytesPerSec ? Math.max(1, Math.floor(bytesPerSec / 20)) : Infinity;
  for await (const chunk of chunks) {
    if (chunk.length <= slice) yield chunk;
    else for (let i = 0; i < chunk.length; i += slice) yield chunk.subarray(i, i + slice);
  }
}

function writeChunk(res: ServerResponse, chunk: Buffer): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** Sleeps, but wakes at once when the client goes away. */
export function pause(ctx: Ctx, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      ctx.res.off('close', finish);
      resolve();
    }
    ctx.res.on('close', finish);
  });
}

/** Yields the first `n` bytes of a chunk stream. */
export async function* takeBytes(chunks: Iterable<Buffer> | AsyncIterable<Buffer>, n: number): AsyncGenerator<Buffer> {
  let left = n;
  for await (const chunk of chunks) {
    if (left <= 0) return;
    yield chunk.length <= left ? chunk : chunk.subarray(0, left);
    left -= chunk.length;
  }
}

/** Drops the first `n` bytes of a chunk stream. */
export async function* skipBytes(chunks: Iterable<Buffer> | AsyncIterable<Buffer>, n: number): AsyncGenerator<Buffer> {
  let left = n;
  for await (const chunk of chunks) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}
