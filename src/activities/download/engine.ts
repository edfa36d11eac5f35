import { pipeline } from 'node:stream/promises';
import { Agent, type Dispatcher } from 'undici';
import { requestFollowingRedirects } from './redirects';
import { ERROR_TYPES, VendorError, parseRetryAfter, redactUrl, snippet, type Vendor } from '../../providers/errors';
import { statusError } from '../../providers/http';
import { observeBytes } from '../../providers/observe';
import type { ManifestFile } from '../../shared/manifest';
import type { CsvFacts } from './row-counter';
import { fileSinkFor, type FileSink } from './storage';
import { VerifyingSink } from './verify';

/** Long bodies may pause, but a connection silent for two minutes is dead. */
export const downloadAgent = new Agent({ connectTimeout: 15_000, headersTimeout: 120_000, bodyTimeout: 120_000 });

/** Where a retried attempt may pick up: saved in the activity heartbeat. */
export interface ResumePoint {
  offset: number;
  etag?: string;
  lastModified?: string;
  total?: number;
}

export interface DownloadSpec {
  vendor: Vendor;
  url: string;
  /** Credentials for the vendor; never logged, never returned. */
  headers: Record<string, string>;
  /** A local directory, or an `s3://bucket/prefix` URI (multipart upload; the manifest path is the URI). */
  dir: string;
  fileName: string;
  /** Count CSV rows in the (decoded) content. */
  countCsvRows: boolean;
  contentTypeFallback?: string;
  /** Statuses that mean "not ready yet" (APSIS poll URLs answer the file or 202/404 on the same URL). */
  notReadyStatuses?: readonly number[];
  /** Vendor-specific meaning of an error status; return undefined to use the default mapping. */
  classifyStatus?: (status: number, bodyText: string) => VendorError | undefined;
  /** Vetoes a 200/206 answer before any byte is stored (e.g. not the format asked for). */
  checkResponse?: (headers: Record<string, string | string[] | undefined>) => VendorError | undefined;
  /**
   * Redirects to follow (0, the default, treats a redirect as an error status). Credentials in `headers` are
   * dropped from the first hop that leaves the URL's origin; only https (or http from an http URL) is followed.
   */
  maxRedirects?: number;
  resume?: ResumePoint;
  onProgress?: (point: ResumePoint) => void;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
}

export type DownloadOutcome =
  | {
      ready: true;
      file: ManifestFile;
      resumed: boolean;
      /** With countCsvRows: CSV records including the first one, and the first record's sha256 (not in manifests). */
      csv?: CsvFacts;
    }
  | { ready: false; status: number; retryAfterMs?: number };

const PROGRESS_INTERVAL_MS = 1000;

/**
 * Streams one vendor file to `<dir>/<fileName>`: body -> sha256 (+ gunzip -> CSV row count) -> storage (a local
 * `.part` file -> fsync -> rename, or an S3 multipart upload completed at the end). Memory stays constant; the
 * file appears under its final name only when complete and verified (length, gzip stream). With `resume`,
 * continues with a Range request when the server answers 206 for the same entity, and starts clean otherwise.
 */
export async function downloadToFile(spec: DownloadSpec): Promise<DownloadOutcome> {
  const sink = fileSinkFor(spec.dir, spec.fileName);
  let resume: ResumePoint | undefined;
  try {
    resume = await sink.usableResume(spec.resume);
  } catch (err) {
    throw downloadFailure(spec, err);
  }

  // Range headers go along every redirect hop; the vendor's credentials only while the origin stays the same.
  const rangeHeaders: Record<string, string> = {};
  if (resume) {
    rangeHeaders.range = `bytes=${resume.offset}-`;
    const validator = resume.etag ?? resume.lastModified;
    if (validator) rangeHeaders['if-range'] = validator;
  }
  const { res } = await requestFollowingRedirects({
    vendor: spec.vendor,
    label: `${vendorLabel(spec)} download of ${spec.fileName}`,
    url: spec.url,
    credentials: spec.headers,
    headers: rangeHeaders,
    maxRedirects: spec.maxRedirects ?? 0,
    signal: spec.signal,
    dispatcher: spec.dispatcher ?? downloadAgent,
  });

  if (spec.notReadyStatuses?.includes(res.statusCode)) {
    await res.body.dump();
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
    return { ready: false, status: res.statusCode, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (resume && res.statusCode === 416) {
    // The stored bytes reach past the file (it shrank, or only the rename was left): start over.
    await res.body.dump();
    return downloadToFile({ ...spec, resume: undefined });
  }
  if (res.statusCode !== 200 && res.statusCode !== 206) {
    const text = await res.body.text().catch(() => '');
    throw spec.classifyStatus?.(res.statusCode, text) ?? defaultDownloadError(spec, res.statusCode, res.headers, text);
  }
  const vetoed = spec.checkResponse?.(res.headers);
  if (vetoed) {
    await res.body.dump();
    throw vetoed;
  }

  const etag = header(res.headers, 'etag');
  const lastModified = header(res.headers, 'last-modified');
  const range = res.statusCode === 206 ? parseContentRange(header(res.headers, 'content-range')) : undefined;
  let offset = 0;
  if (res.statusCode === 206) {
    if (!resume) {
      await res.body.dump();
      throw integrityError(spec, `${vendorLabel(spec)} download answered 206 to a request without Range`);
    }
    if (!sameEntity(resume, range, etag, lastModified)) {
      // Another part or another version of the file: nothing stored before can be trusted.
      await res.body.dump();
      return downloadToFile({ ...spec, resume: undefined });
    }
    offset = resume.offset;
  }

  const encoding = /gzip/i.test(header(res.headers, 'content-encoding') ?? '') ? 'gzip' : null;
  const gzipped = encoding === 'gzip' || /\.gz$/i.test(spec.fileName);
  const contentType = (header(res.headers, 'content-type') ?? spec.contentTypeFallback ?? 'application/octet-stream')
    .split(';')[0]!
    .trim();
  const length = numberHeader(res.headers, 'content-length');
  const expectedTotal = range ? (range.total ?? (length !== undefined ? offset + length : undefined)) : length;

  let rows: number | null = null;
  // Whether the stored bytes are worth a Range request on the next attempt.
  let keepStored = true;
  const verifier = new VerifyingSink(
    spec.countCsvRows,
    gzipped,
    async (bytes) => {
      const size = offset + bytes;
      if (expectedTotal !== undefined && size !== expectedTotal) {
        keepStored = size < expectedTotal;
        throw integrityError(
          spec,
          `${vendorLabel(spec)} download of ${spec.fileName} ended at ${size} bytes, expected ${expectedTotal}`,
        );
      }
      try {
        rows = await verifier.finish();
      } catch (err) {
        keepStored = false;
        throw integrityError(
          spec,
          `${vendorLabel(spec)} download of ${spec.fileName} ${gzipped ? 'is not a valid gzip stream' : 'could not be checked'}: ${(err as Error).message}`,
        );
      }
    },
    expectedTotal,
  );

  let out: Awaited<ReturnType<FileSink['open']>> | undefined;
  let lastReport = 0;
  const report = (force: boolean) => {
    const now = Date.now();
    if (!out || (!force && now - lastReport < PROGRESS_INTERVAL_MS)) return;
    lastReport = now;
    spec.onProgress?.({ offset: offset + out.written(), etag, lastModified, total: expectedTotal });
  };
  const timer = setInterval(() => report(false), PROGRESS_INTERVAL_MS);
  let location: string;
  try {
    if (offset > 0) await verifier.replay(sink.readStored(offset));
    out = await sink.open(offset, contentType);
    await pipeline(res.body, verifier, out.stream, { signal: spec.signal });
    location = await sink.commit();
  } catch (err) {
    clearInterval(timer);
    res.body.destroy();
    verifier.destroy();
    const failure = downloadFailure(spec, err);
    const keep = keepStored && !(failure.type === ERROR_TYPES.storage && !failure.retryable);
    await sink.discard(keep, failure).catch(() => undefined);
    // After discard, so the heartbeat never claims bytes that a destroyed writer dropped.
    report(true);
    throw failure;
  }
  clearInterval(timer);
  report(true);
  const size = offset + verifier.bytes;
  observeBytes(spec.vendor, size - offset);
  const csv = verifier.csv();
  return {
    ready: true,
    resumed: offset > 0,
    ...(csv ? { csv } : {}),
    file: { path: location, name: spec.fileName, bytes: size, sha256: verifier.sha256(), contentType, encoding, rows },
  };
}

/** A 206 continues the stored bytes only if it starts where they end and describes the same entity. */
function sameEntity(
  resume: ResumePoint,
  range: { start: number; end: number; total?: number } | undefined,
  etag: string | undefined,
  lastModified: string | undefined,
): boolean {
  if (!range || range.start !== resume.offset) return false;
  if (resume.total !== undefined && range.total !== undefined && range.total !== resume.total) return false;
  if (range.total !== undefined && range.end !== range.total - 1) return false;
  // A validator we saw before must come back unchanged; a server that stopped sending it cannot be trusted.
  if (resume.etag !== undefined && etag !== resume.etag) return false;
  if (resume.lastModified !== undefined && lastModified !== resume.lastModified) return false;
  return true;
}

function defaultDownloadError(
  spec: DownloadSpec,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  text: string,
): VendorError {
  if (status === 404 || status === 410) {
    return new VendorError(
      ERROR_TYPES.gone,
      `${vendorLabel(spec)} download link for ${spec.fileName} is gone or expired (HTTP ${status})`,
      false,
      { vendor: spec.vendor, endpoint: 'download', status },
    );
  }
  return statusError(spec.vendor, 'download', { status, headers, text });
}

function integrityError(spec: DownloadSpec, message: string): VendorError {
  return new VendorError(ERROR_TYPES.integrity, message, true, { vendor: spec.vendor, endpoint: 'download' });
}

/** Disk full, quota, read-only or permission problems: retrying on the same storage cannot fix them. */
const FINAL_STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EFBIG', 'ENAMETOOLONG']);

function downloadFailure(spec: DownloadSpec, err: unknown): VendorError {
  if (err instanceof VendorError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && FINAL_STORAGE_CODES.has(code)) {
    return new VendorError(
      ERROR_TYPES.storage,
      `cannot write ${spec.fileName} into ${spec.dir}: ${code} (${(err as Error).message})`,
      false,
      { vendor: spec.vendor, endpoint: 'download' },
    );
  }
  const at = `${vendorLabel(spec)} download of ${spec.fileName} (${redactUrl(spec.url)})`;
  return integrityError(spec, `${at} was interrupted: ${snippet((err as Error)?.message ?? String(err))}`);
}

function vendorLabel(spec: DownloadSpec): string {
  return { altcraft: 'Altcraft', apsis: 'APSIS One', mytracker: 'myTracker' }[spec.vendor];
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function numberHeader(headers: Record<string, string | string[] | undefined>, name: string): number | undefined {
  const value = header(headers, name);
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/** Parses `bytes START-END/TOTAL` (TOTAL may be `*`). */
export function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total?: number } | undefined {
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value ?? '');
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: match[3] === '*' ? undefined : Number(match[3]) };
}
