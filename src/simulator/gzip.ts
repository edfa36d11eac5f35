/** Streaming gzip of generated data, and (cached) facts about the gzip bytes so a .gz file has a Content-Length. */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';

/**
 * Gzips a chunk stream lazily, in constant memory. zlib output does not depend on how input is chunked, so
 * the same source always gives the same bytes (the gzip header carries no timestamp from Node).
 * `inputHash`, when given, is fed the uncompressed bytes.
 */
export async function* gzipChunks(
  source: Iterable<Buffer> | AsyncIterable<Buffer>,
  inputHash?: Hash,
): AsyncGenerator<Buffer> {
  async function* tap(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      inputHash?.update(chunk);
      yield chunk;
    }
  }
  const gz = Readable.from(tap()).pipe(createGzip());
  try {
    for await (const out of gz as AsyncIterable<Buffer>) yield out;
  } finally {
    gz.destroy();
  }
}

export interface GzipInfo {
  bytes: number;
  sha256: string;
  decodedBytes: number;
  decodedSha256: string;
}

const cache = new Map<string, GzipInfo>();

/** Size and hashes of gzip(source()), computed once per key by streaming (never holding the file). */
export async function gzipInfo(key: string, source: () => Iterable<Buffer>): Promise<GzipInfo> {
  const known = cache.get(key);
  if (known) return known;
  const outHash = createHash('sha256');
  const inHash = createHash('sha256');
  let bytes = 0;
  let decodedBytes = 0;
  const counted = function* (): Generator<Buffer> {
    for (const c of source()) {
      decodedBytes += c.length;
      yield c;
    }
  };
  for await (const chunk of gzipChunks(counted(), inHash)) {
    outHash.update(chunk);
    bytes += chunk.length;
  }
  const info = { bytes, sha256: outHash.digest('hex'), decodedBytes, decodedSha256: inHash.digest('hex') };
  if (cache.size > 1000) cache.clear(); // bounded: keys are per (seed, rows), tests make few
  cache.set(key, info);
  return info;
}
