import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { AesGcmCodec, type CodecKey } from './codec';

export const CODEC_DEFAULT_LISTEN = '127.0.0.1:8888';
/** Browser origins of the Web UI allowed to call the codec (CORS), by default the dev server's UI. */
export const CODEC_DEFAULT_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface CodecServerOptions {
  listen: string;
  codec: PayloadCodec;
  /** Origins whose pages may call the endpoint; `*` allows any. */
  corsOrigins: string[];
  /** When set, every call needs `Authorization: Bearer <token>`. */
  authToken?: string;
}

export interface CodecServer {
  /** http://host:port of the listening server */
  url: string;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/**
 * The Temporal remote codec endpoint (what `--ui-codec-endpoint` and `temporal --codec-endpoint` call):
 * POST /encode and /decode with `{"payloads":[{"metadata":{k:base64},"data":base64}]}` (the proto JSON form).
 */
export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const server = http.createServer((req, res) => {
    handle(req, res, opts).catch((err: Error) => reply(res, 500, { message: err.message }, corsHeaders(req, opts)));
  });
  const idx = opts.listen.lastIndexOf(':');
  const host = opts.listen.slice(0, idx);
  const port = Number(opts.listen.slice(idx + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function corsHeaders(req: http.IncomingMessage, opts: CodecServerOptions): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin) return {};
  if (!opts.corsOrigins.includes('*') && !opts.corsOrigins.includes(origin)) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'content-type, x-namespace, authorization',
    'access-control-allow-credentials': 'true',
    'access-control-max-age': '600',
    vary: 'origin',
  };
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, opts: CodecServerOptions): Promise<void> {
  const cors = corsHeaders(req, opts);
  if (req.method === 'OPTIONS') {
    res.writeHead(cors['access-control-allow-origin'] ? 204 : 403, cors).end();
    return;
  }
  const route = (req.url ?? '').split('?')[0]!.replace(/\/+$/, '');
  if (req.method !== 'POST' || (route !== '/encode' && route !== '/decode')) {
    return reply(res, 404, { message: 'POST /encode or /decode' }, cors);
  }
  if (opts.authToken && !bearerMatches(req.headers.authorization, opts.authToken)) {
    return reply(res, 401, { message: 'missing or wrong Authorization: Bearer token' }, cors);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return reply(res, 413, { message: 'body too large' }, cors);
    chunks.push(chunk as Buffer);
  }
  let payloads: Payload[];
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
    if (!Array.isArray(body.payloads)) throw new Error('expected {"payloads":[...]}');
    payloads = body.payloads.map(fromJson);
  } catch (err) {
    return reply(res, 400, { message: `bad request: ${(err as Error).message}` }, cors);
  }
  try {
    const out = route === '/encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
    reply(res, 200, { payloads: out.map(toJson) }, cors);
  } catch (err) {
    // The reason (e.g. an unknown key id) helps the operator; it never contains payload contents.
    reply(res, 422, { message: (err as Error).message }, cors);
  }
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

function fromJson(p: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = Buffer.from(String(v), 'base64');
  return { metadata, data: Buffer.from(p.data ?? '', 'base64') };
}

function toJson(p: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

function reply(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/**
 * Starts the codec endpoint for the given encryption keys (EXPORTFLOW_CODEC_KEYS), the default origins of the dev
 * Web UI plus any configured or extra ones, and the optional bearer token. A busy port is a clear error.
 */
export async function startKeyedCodecServer(opts: {
  listen: string;
  keys: CodecKey[];
  corsOrigins?: string[];
  extraOrigins?: string[];
  authToken?: string;
}): Promise<CodecServer> {
  try {
    return await startCodecServer({
      listen: opts.listen,
      codec: new AesGcmCodec(opts.keys),
      corsOrigins: [...(opts.corsOrigins ?? CODEC_DEFAULT_ORIGINS), ...(opts.extraOrigins ?? [])],
      authToken: opts.authToken,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `codec server: ${opts.listen} is already in use; choose another with --listen or EXPORTFLOW_CODEC_LISTEN`,
      );
    }
    throw err;
  }
}
