/**
 * The benchmark's file server, run as its own process so it does not share an event loop (or RSS) with the
 * engine being measured. Serves deterministic CSV bytes from memory with Content-Length:
 *   /plain/<bytes>   a CSV block repeated up to <bytes>; Accept-Ranges, a strong ETag, Range answered with 206
 *   /gzip/<copies>   one gzip member (of a CSV block) repeated <copies> times: a valid multi-member gzip file
 *   ?cap=<bytes/s>   sends each connection at most that fast (a link where one connection is slow)
 * Prints `PORT <n>` on stdout once it listens on 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { csvBytesOf } from '../src/simulator';

const plainBlock = csvBytesOf('bench-plain', 220_000); // ~16 MB
const gzipSource = csvBytesOf('bench-gzip', 880_000); // ~64 MB decoded per member
const gzipMember = zlib.gzipSync(gzipSource, { level: 6 });
const PIECE = 256 * 1024;

/** Writes `total` bytes of `block` repeated, starting at byte `from` of the repetition, paced to `cap` bytes/s. */
async function send(res: http.ServerResponse, block: Buffer, from: number, total: number, cap: number): Promise<void> {
  const started = Date.now();
  const piece = cap > 0 ? Math.min(PIECE, Math.max(16 * 1024, Math.floor(cap / 100))) : PIECE;
  let sent = 0;
  while (sent < total && !res.destroyed) {
    const at = (from + sent) % block.length;
    const chunk = block.subarray(at, Math.min(block.length, at + piece, at + (total - sent)));
    sent += chunk.length;
    if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
    if (cap > 0) {
      const ahead = (sent / cap) * 1000 - (Date.now() - started);
      if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
    }
  }
  res.end();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const [, kind, amount] = url.pathname.split('/');
  const cap = Number(url.searchParams.get('cap') ?? 0) || 0;
  const n = Number(amount);
  if (kind === 'info') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ gzipMemberBytes: gzipMember.length, gzipMemberDecodedBytes: gzipSource.length }));
    return;
  }
  if (!Number.isSafeInteger(n) || n <= 0 || (kind !== 'plain' && kind !== 'gzip')) {
    res.writeHead(404).end();
    return;
  }
  const [block, total, type] =
    kind === 'plain' ? [plainBlock, n, 'text/csv'] : [gzipMember, gzipMember.length * n, 'application/gzip'];
  const headers = { 'content-type': type, 'accept-ranges': 'bytes', etag: `"${kind}-${n}"` };
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range && (!req.headers['if-range'] || req.headers['if-range'] === headers.etag)) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(total - 1, Number(range[2])) : total - 1;
    if (start > end) return res.writeHead(416, { 'content-range': `bytes */${total}` }).end();
    res.writeHead(206, {
      ...headers,
      'content-length': end - start + 1,
      'content-range': `bytes ${start}-${end}/${total}`,
    });
    send(res, block, start, end - start + 1, cap).catch(() => res.destroy());
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': total });
  send(res, block, 0, total, cap).catch(() => res.destroy());
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
