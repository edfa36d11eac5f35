import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface GrpcRefuser {
  address: string;
  /** Method paths seen (forwarded or refused), in order. */
  calls: string[];
  refused: string[];
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
 * A plaintext (h2c) gRPC front for the dev server that answers the named methods with a gRPC error, as a cluster
 * does for a caller without operator rights (Temporal Cloud refuses OperatorService.AddSearchAttributes with
 * PERMISSION_DENIED), and forwards every other call, headers, body and trailers, unchanged.
 */
export async function startGrpcRefuser(opts: {
  upstream: string;
  refuse: string[];
  status?: number;
  message?: string;
}): Promise<GrpcRefuser> {
  const calls: string[] = [];
  const refused: string[] = [];
  let session: http2.ClientHttp2Session | undefined;
  const upstream = () => {
    if (!session || session.closed || session.destroyed) {
      session = http2.connect(`http://${opts.upstream}`);
      session.on('error', () => undefined);
      session.on('goaway', () => session?.close());
    }
    return session;
  };
  const server = http2.createServer();
  server.on('sessionError', () => undefined);
  const open = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const method = String(headers[':path']);
    calls.push(method);
    if (opts.refuse.some((r) => method.endsWith(`/${r}`))) {
      refused.push(method);
      stream.resume();
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(opts.status ?? 7),
          'grpc-message': encodeURIComponent(opts.message ?? 'Request unauthorized.'),
        },
        { endStream: true },
      );
      return;
    }
    const up = upstream().request({ ':method': headers[':method'], ':path': method, ...forwardable(headers) });
    up.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    let trailers: http2.OutgoingHttpHeaders | undefined;
    up.on('response', (h, flags) => {
      if (stream.destroyed) return;
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
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
    calls,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        session?.close();
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}
