import fs from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface TlsFrontOptions {
  /** The plaintext (h2c) Temporal frontend to forward to, host:port. */
  upstream: string;
  cert: string;
  key: string;
  /** With a CA: mutual TLS, a client certificate signed by it is required. */
  clientCa?: string;
  /** With an API key: every call needs `authorization: Bearer <key>`, else grpc-status 16 (UNAUTHENTICATED). */
  apiKey?: string;
}

export interface TlsFront {
  address: string;
  /** Calls forwarded and calls refused for a missing/wrong key, so tests can see the front was really used. */
  stats: { forwarded: number; rejected: number; handshakeErrors: string[] };
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

function forwardable(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(':') || HOP_BY_HOP.has(k) || v === undefined) continue;
    out[k] = v;
  }
  return out;
}

/**
 * A TLS (optionally mTLS or API-key checking) gRPC front for the plaintext dev server, the way a secured
 * Temporal frontend or Temporal Cloud looks to a client: every HTTP/2 stream is forwarded with its headers,
 * body and trailers to the dev server over h2c.
 */
export async function startTlsFront(opts: TlsFrontOptions): Promise<TlsFront> {
  const stats = { forwarded: 0, rejected: 0, handshakeErrors: [] as string[] };
  // Temporal's frontend closes idle connections (after 2 minutes by default): dial again when that happened.
  let session: http2.ClientHttp2Session | undefined;
  const upstream = () => {
    if (!session || session.closed || session.destroyed) {
      session = http2.connect(`http://${opts.upstream}`);
      session.on('error', () => undefined);
      session.on('goaway', () => session?.close());
    }
    return session;
  };
  const server = http2.createSecureServer({
    cert: fs.readFileSync(opts.cert),
    key: fs.readFileSync(opts.key),
    ALPNProtocols: ['h2'],
    ...(opts.clientCa ? { ca: fs.readFileSync(opts.clientCa), requestCert: true, rejectUnauthorized: true } : {}),
  });
  server.on('tlsClientError', (err) => stats.handshakeErrors.push(err.message));
  server.on('sessionError', () => undefined);
  const open = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    open.add(session);
    session.once('close', () => open.delete(session));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (opts.apiKey !== undefined && headers.authorization !== `Bearer ${opts.apiKey}`) {
      stats.rejected += 1;
      // A trailers-only gRPC answer, as Temporal Cloud gives for a missing or wrong key.
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '16',
          'grpc-message': 'Request unauthorized.',
        },
        { endStream: true },
      );
      return;
    }
    stats.forwarded += 1;
    const up = upstream().request(
      { ':method': headers[':method'], ':path': headers[':path'], ...forwardable(headers) },
      { endStream: false },
    );
    up.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    let trailers: http2.OutgoingHttpHeaders | undefined;
    up.on('response', (h, flags) => {
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      if (stream.destroyed) return;
      stream.respond(
        { ':status': h[':status'], ...forwardable(h) },
        endStream ? { endStream: true } : { waitForTrailers: true },
      );
    });
    up.on('trailers', (t) => (trailers = forwardable(t)));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers ?? {}));
    up.on('data', (chunk: Buffer) => {
      if (!stream.destroyed) stream.write(chunk);
    });
    up.on('end', () => {
      if (!stream.destroyed && !stream.writableEnded) stream.end();
    });
    stream.on('data', (chunk: Buffer) => up.write(chunk));
    stream.on('end', () => up.end());
    stream.on('close', () => {
      if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        session?.close();
        server.close(() => resolve());
        // Long polls would hold the server open; the test is done with them.
        for (const s of open) s.destroy();
      }),
  };
}
