import http from 'node:http';
import { listenLoopback } from './downloads';
import { after, before, beforeEach } from 'node:test';

/** What the range test server does; tests change it between requests. */
export interface RangeServerMode {
  /** ETag sent with whole-file answers; range answers send `rangeEtag` if set (a file that changed). */
  etag: string;
  rangeEtag?: string;
  /** Answer range requests with the whole file (200). */
  ignoreRanges?: boolean;
  /** Send this many bytes fewer than asked in each range answer (Content-Length matching, so the body ends cleanly). */
  shortBy?: number;
  /** Bytes per second per connection (0 = no cap). */
  cap?: number;
}

export interface SeenRequest {
  range?: string;
  ifRange?: string;
  status: number;
  /** performance.now() when the request arrived. */
  at: number;
}

/** A 127.0.0.1 server for one file with Accept-Ranges, whose misbehaviour the test picks. */
export async function startRangeServer(body: Buffer, mode: RangeServerMode) {
  const seen: SeenRequest[] = [];
  const send = async (res: http.ServerResponse, data: Buffer) => {
    const cap = mode.cap ?? 0;
    const piece = cap > 0 ? Math.max(4096, Math.floor(cap / 50)) : data.length;
    const started = Date.now();
    for (let at = 0; at < data.length && !res.destroyed; at += piece) {
      if (!res.write(data.subarray(at, at + piece))) await new Promise((r) => res.once('drain', r));
      if (cap > 0) {
        const ahead = ((at + piece) / cap) * 1000 - (Date.now() - started);
        if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
      }
    }
    res.end();
  };
  const server = http.createServer((req, res) => {
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const base = { 'accept-ranges': 'bytes', 'content-type': 'text/csv' };
    if (m && !mode.ignoreRanges) {
      const start = Number(m[1]);
      const end = m[2] ? Number(m[2]) : body.length - 1;
      const sent = Math.max(0, end - start + 1 - (mode.shortBy ?? 0));
      seen.push({
        range: req.headers.range,
        ifRange: req.headers['if-range'] as string | undefined,
        status: 206,
        at: performance.now(),
      });
      res.writeHead(206, {
        ...base,
        etag: mode.rangeEtag ?? mode.etag,
        'content-range': `bytes ${start}-${end}/${body.length}`,
        'content-length': sent,
      });
      void send(res, body.subarray(start, start + sent)).catch(() => res.destroy());
      return;
    }
    seen.push({ range: req.headers.range, status: 200, at: performance.now() });
    res.writeHead(200, { ...base, etag: mode.etag, 'content-length': body.length });
    void send(res, body).catch(() => res.destroy());
  });
  const url = `${await listenLoopback(server)}/file.csv`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * One range server for a whole describe block: started before its tests, closed after them, and before each
 * test its request log emptied and its mode back to a well-behaved server with ETag "v1". Tests change `mode`.
 */
export function rangeServerForSuite(body: Buffer) {
  const mode: RangeServerMode = { etag: '"v1"' };
  const suite = { mode, url: '', seen: [] as SeenRequest[] };
  let server: Awaited<ReturnType<typeof startRangeServer>> | undefined;
  before(async () => {
    server = await startRangeServer(body, mode);
    Object.assign(suite, { url: server.url, seen: server.seen });
  });
  after(() => server?.close());
  beforeEach(() => {
    suite.seen.length = 0;
    for (const key of Object.keys(mode) as (keyof RangeServerMode)[]) delete mode[key];
    mode.etag = '"v1"';
  });
  return suite;
}
