import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApsisCallbackBody } from '../providers/apsis/schemas';
import { CALLBACK_CODES } from '../providers/apsis/constants';
import type { Logger } from '../util/logger';
import type { ApsisCallbackSignal } from '../shared/contract';
import { parseCallbackPath, verifyCallbackToken } from '../providers/apsis/callback-url';

/** Hands a verified callback to its workflow; 'closed' when the workflow has already ended (a late duplicate). */
export interface CallbackDelivery {
  deliver(workflowId: string, callback: ApsisCallbackSignal): Promise<'signalled' | 'closed'>;
}

export interface CallbackReceiverOptions {
  /** host:port; port 0 picks a free one (see `address`). */
  listen: string;
  secret: string;
  delivery: CallbackDelivery;
  logger: Logger;
  maxBodyBytes?: number;
  /**
   * Origin (scheme://host:port) that a code-200 data URL must be on: the configured APSIS base URL. Any other
   * URL is refused before it becomes a signal, so even a caller holding a valid token cannot make the
   * workflow fetch from (or fail on) a host of its choosing. Several when named APSIS accounts use other base URLs
   * (the download activity then checks the URL against the export's own account).
   */
  dataOrigin?: string | readonly string[];
}

export interface CallbackReceiver {
  /** The bound host:port. */
  address: string;
  close(): Promise<void>;
}

export const MAX_CALLBACK_BODY_BYTES = 64 * 1024;

/**
 * The APSIS callback endpoint. A POST whose token does not verify is rejected (401) before its body is read
 * and reaches no workflow; a verified one is size-limited, schema-checked, and (unless it is the code-100
 * check) signalled to its workflow before the 2xx goes out, so a 2xx means Temporal has it. Stateless.
 */
export async function startCallbackReceiver(opts: CallbackReceiverOptions): Promise<CallbackReceiver> {
  const limit = opts.maxBodyBytes ?? MAX_CALLBACK_BODY_BYTES;
  const log = opts.logger.child({ component: 'callback-receiver' });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://receiver');
    if (req.method === 'GET' && url.pathname.endsWith('/healthz')) return reply(res, 200, { ok: true });
    const target = parseCallbackPath(url.pathname);
    if (!target) return reply(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return reply(res, 405, { error: 'use POST' }, { allow: 'POST' });
    const workflowId = target.workflowId.slice(0, 200);
    if (!verifyCallbackToken(opts.secret, target.workflowId, target.token)) {
      log.warn({ workflowId, remote: req.socket.remoteAddress }, 'callback with an unknown token rejected');
      return reply(res, 401, { error: 'unknown callback' });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reply(res, 413, { error: `body over ${limit} bytes` });
    const body = await readLimited(req, limit);
    if (body === undefined) return reply(res, 413, { error: `body over ${limit} bytes` });
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return reply(res, 400, { error: 'body is not JSON' });
    }
    const parsed = ApsisCallbackBody.safeParse(json);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      log.warn({ workflowId, why }, 'callback with an invalid body rejected');
      return reply(res, 400, { error: why });
    }
    const { code, message } = parsed.data;
    if (code === CALLBACK_CODES.verified) {
      log.info({ workflowId }, 'APSIS verified the callback URL');
      return reply(res, 200, { ok: true });
    }
    if (
      code === CALLBACK_CODES.ready &&
      opts.dataOrigin !== undefined &&
      !([] as string[]).concat(opts.dataOrigin).includes(originOf(message) ?? '')
    ) {
      log.warn({ workflowId, dataOrigin: originOf(message) }, 'callback with a data URL off the APSIS host rejected');
      return reply(res, 400, { error: 'message: the data URL is not on the APSIS host' });
    }
    try {
      const outcome = await opts.delivery.deliver(target.workflowId, { code, message });
      log.info({ workflowId, code, outcome }, 'APSIS callback delivered');
      return reply(res, 200, { ok: true });
    } catch (err) {
      // Not delivered: a non-2xx lets APSIS try again later, maybe reaching another receiver.
      log.error({ workflowId, code, err: (err as Error)?.message }, 'could not signal the workflow');
      return reply(res, 503, { error: 'try again later' });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err: (err as Error)?.message }, 'callback handler failed');
      if (!res.headersSent) reply(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  const { host, port } = splitHostPort(opts.listen);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `CALLBACK_LISTEN ${opts.listen} is already in use (another worker or receiver?); give each one its own CALLBACK_LISTEN`,
            )
          : err,
      );
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  log.info({ address }, 'callback receiver listening');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...(status >= 400 ? { connection: 'close' } : {}),
    ...headers,
  });
  res.end(text);
}

/** The body, or undefined as soon as it grows past `limit` (the rest is left unread; the reply closes the connection). */
function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void parts.push(chunk);
      cleanup();
      req.pause();
      resolve(undefined);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(parts));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}
