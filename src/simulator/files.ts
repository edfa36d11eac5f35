/** Serving a file entity of known size: validators, single byte ranges (206/416), and the `served` record. */
import { sendStream, takeBytes, type Ctx } from './http';
import type { ServedFile } from './types';
import { type Vendor } from '../shared/vendors';

export interface FileEntity {
  vendor: Vendor;
  size: number;
  /** The entity's bytes from `start` to the end. */
  chunksFrom(start: number): Iterable<Buffer> | AsyncIterable<Buffer>;
  contentType: string;
  etag?: string;
  lastModified?: Date;
  /** Extra response headers (e.g. Content-Encoding). */
  headers?: Record<string, string>;
  supportRange: boolean;
  bytesPerSec?: number;
  /** Facts recorded in `served` when the full body went out. */
  record: Pick<ServedFile, 'rows' | 'encoding' | 'decodedSha256' | 'seed'>;
}

type RangeResult = { start: number; end: number } | 'unsatisfiable' | undefined;

/** One `bytes=` range (`N-`, `N-M`, `-N`); several ranges or nonsense are ignored, as RFC 9110 allows. */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** Answers a GET for a file entity: 200 full body, 206 for a satisfiable range, 416 otherwise. */
export async function serveFile(ctx: Ctx, entity: FileEntity, served: ServedFile[]): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': entity.contentType, ...entity.headers };
  if (entity.etag) headers.ETag = entity.etag;
  if (entity.lastModified) headers['Last-Modified'] = entity.lastModified.toUTCString();
  headers['Accept-Ranges'] = entity.supportRange ? 'bytes' : 'none';
  const range =
    entity.supportRange && ifRangeHolds(ctx, entity) ? parseRange(ctx.req.headers.range, entity.size) : undefined;
  if (range === 'unsatisfiable') {
    await sendStream(ctx, {
      status: 416,
      headers: { ...headers, 'Content-Range': `bytes */${entity.size}` },
      chunks: [],
      length: 0,
    });
    return;
  }
  if (range) {
    const length = range.end - range.start + 1;
    await sendStream(ctx, {
      status: 206,
      headers: { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${entity.size}` },
      chunks: takeBytes(entity.chunksFrom(range.start), length),
      length,
      bytesPerSec: entity.bytesPerSec,
    });
    return;
  }
  await sendStream(ctx, {
    status: 200,
    headers,
    chunks: entity.chunksFrom(0),
    length: entity.size,
    bytesPerSec: entity.bytesPerSec,
    onComplete: ({ bytes, sha256 }) =>
      served.push({
        vendor: entity.vendor,
        path: ctx.url.pathname,
        bytes,
        sha256,
        contentType: entity.contentType,
        ...entity.record,
        at: Date.now(),
      }),
  });
}

/** If-Range: resume only while the entity is unchanged; otherwise the client gets the whole file. */
function ifRangeHolds(ctx: Ctx, entity: FileEntity): boolean {
  const ifRange = ctx.req.headers['if-range'];
  if (typeof ifRange !== 'string' || ifRange === '') return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === entity.etag;
  return entity.lastModified !== undefined && ifRange === entity.lastModified.toUTCString();
}
