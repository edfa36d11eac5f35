/**
 * The benchmark's file server, run as its own process so it does not share an event loop (or RSS) with the
 * engine being measured. Serves deterministic CSV bytes from memory with Content-Length:
 *   /plain/<bytes>   a CSV block repeated up to <bytes>
 *   /gzip/<copies>   one gzip member (of a CSV block) repeated <copies> times: a valid multi-member gzip file
 * Prints `PORT <n>` on stdout once it listens on 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { csvBytesOf } from '../src/simulator';

const plainBlock = csvBytesOf('bench-plain', 220_000); // ~16 MB
const gzipSource = csvBytesOf('bench-gzip', 880_000); // ~64 MB decoded per member
const gzipMember = zlib.gzipSync(gzipSource, { level: 6 });

async function send(res: http.ServerResponse, pieces: Generator<Buffer>): Promise<void> {
  for (const piece of pieces) {
    if (res.destroyed) return;
    if (!res.write(piece)) await new Promise<void>((resolve) => res.once('drain', resolve));
  }
  res.end();
}

function* repeat(block: Buffer, total: number): Generator<Buffer> {
  for (let sent = 0; sent < total; sent += block.length) yield block.subarray(0, Math.min(block.length, total - sent));
}

const server = http.createServer((req, res) => {
  const [, kind, amount] = (req.url ?? '').split('/');
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
  res.writeHead(200, { 'content-type': type, 'content-length': total });
  send(res, repeat(block, total)).catch(() => res.destroy());
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
