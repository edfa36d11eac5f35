import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { Agent, request, type Dispatcher } from 'undici';
import { ERROR_TYPES, VendorError, redactUrl, snippet, type Vendor } from '../../providers/errors';
import { networkError, statusError } from '../../providers/http';
import { observeBytes, observeHttp } from '../../providers/observe';
import type { ManifestFile } from '../../shared/manifest';
import { CsvRowCounter } from './row-counter';

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
  dir: string;
  fileName: string;
  /** Count CSV rows in the (decoded) content. */
  countCsvRows: boolean;
  contentTypeFallback?: string;
  /** Statuses that mean "not ready yet" (APSIS poll URLs answer the file or 202/404 on the same URL). */
  notReadyStatuses?: readonly number[];
  /** Vendor-specific meaning of an error status; return undefined to use the default mapping. */
  classifyStatus?: (status: number, bodyText: string) => VendorError | undefined;
  resume?: ResumePoint;
  onProgress?: (point: ResumePoint) => void;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
}

export type DownloadOutcome = { ready: true; file: ManifestFile; resumed: boolean } | { ready: false; status: number };

const PROGRESS_INTERVAL_MS = 1000;

/**
 * Streams one vendor file to `<dir>/<fileName>`: body -> sha256 (+ gunzip -> CSV row count) -> `.part` file ->
 * fsync -> rename. Memory stays constant; the file appears under its final name only when complete and verified.
 * With `resume`, continues with a Range request and starts clean when the server cannot honour it.
 */
export async function downloadToFile(spec: DownloadSpec): Promise<DownloadOutcome> {
  await fsp.mkdir(spec.dir, { recursive: true });
  const finalPath = path.join(spec.dir, spec.fileName);
  const partPath = path.join(spec.dir, `.${spec.fileName}.part`);
  const resume = await usableResumePoint(partPath, spec.resume);

  const headers: Record<string, string> = { ...spec.headers };
  if (resume) {
    headers.range = `bytes=${resume.offset}-`;
    const validator = resume.etag ?? resume.lastModified;
    if (validator) headers['if-range'] = validator;
  }
  let res: Dispatcher.ResponseData;
  try {
    res = await request(spec.url, {
      method: 'GET',
      headers,
      signal: spec.signal,
      dispatcher: spec.dispatcher ?? downloadAgent,
    });
  } catch (err) {
    observeHttp(spec.vendor, 'download', 0);
    throw networkError(`${vendorLabel(spec)} download`, spec.vendor, 'download', err);
  }
  observeHttp(spec.vendor, 'download', res.statusCode);

  if (spec.notReadyStatuses?.includes(res.statusCode)) {
    await res.body.dump();
    return { ready: false, status: res.statusCode };
  }
  if (res.statusCode !== 200 && res.statusCode !== 206) {
    const text = await res.body.text().catch(() => '');
    throw spec.classifyStatus?.(res.statusCode, text) ?? defaultDownloadError(spec, res.statusCode, res.headers, text);
  }

  const etag = header(res.headers, 'etag');
  const lastModified = header(res.headers, 'last-modified');
  let offset = 0;
  if (resume && res.statusCode === 206) {
    const range = parseContentRange(header(res.headers, 'content-range'));
    const sameFile =
      range !== undefined &&
      range.start === resume.offset &&
      (resume.total === undefined || range.total === undefined || range.total === resume.total) &&
      (!resume.etag || !etag || resume.etag === etag);
    if (!sameFile) {
      // The server sent another part or another file: nothing from before can be trusted.
      await res.body.dump();
      return downloadToFile({ ...spec, resume: undefined });
    }
    offset = resume.offset;
  } else if (res.statusCode === 206) {
    await res.body.dump();
    throw new VendorError(
      ERROR_TYPES.integrity,
      `${vendorLabel(spec)} download answered 206 to a request without Range`,
      true,
      {
        vendor: spec.vendor,
        endpoint: 'download',
      },
    );
  }

  const encoding = /gzip/i.test(header(res.headers, 'content-encoding') ?? '') ? 'gzip' : null;
  const gzipped = encoding === 'gzip' || /\.gz$/i.test(spec.fileName);
  const contentType = (header(res.headers, 'content-type') ?? spec.contentTypeFallback ?? 'application/octet-stream')
    .split(';')[0]!
    .trim();
  const expectedTotal =
    res.statusCode === 206
      ? parseContentRange(header(res.headers, 'content-range'))?.total
      : numberHeader(res.headers, 'content-length');

  const sink = new VerifyingSink(spec.countCsvRows, gzipped);
  if (offset > 0) await sink.replayPrefix(partPath, offset);
  else await fsp.rm(partPath, { force: true });

  const out = fs.createWriteStream(partPath, offset > 0 ? { flags: 'r+', start: offset } : { flags: 'w' });
  let lastReport = 0;
  const report = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = now;
    spec.onProgress?.({ offset: offset + out.bytesWritten, etag, lastModified, total: expectedTotal });
  };
  const timer = setInterval(() => report(false), PROGRESS_INTERVAL_MS);
  try {
    await pipeline(res.body, sink, out, { signal: spec.signal });
  } catch (err) {
    clearInterval(timer);
    report(true);
    throw downloadFailure(spec, err);
  }
  clearInterval(timer);

  const size = offset + out.bytesWritten;
  if (expectedTotal !== undefined && size !== expectedTotal) {
    throw new VendorError(
      ERROR_TYPES.integrity,
      `${vendorLabel(spec)} download of ${spec.fileName} ended at ${size} bytes, expected ${expectedTotal}`,
      true,
      { vendor: spec.vendor, endpoint: 'download' },
    );
  }
  let rows: number | null;
  try {
    rows = await sink.finish();
  } catch (err) {
    // A truncated or corrupt gzip stream: the stored bytes are not a whole file.
    await fsp.rm(partPath, { force: true });
    throw new VendorError(
      ERROR_TYPES.integrity,
      `${vendorLabel(spec)} download of ${spec.fileName} is not a valid gzip stream: ${(err as Error).message}`,
      true,
      { vendor: spec.vendor, endpoint: 'download' },
    );
  }
  await fsyncFile(partPath);
  await fsp.rename(partPath, finalPath);
  await fsyncDir(spec.dir);
  report(true);
  observeBytes(spec.vendor, size - offset);
  return {
    ready: true,
    resumed: offset > 0,
    file: { path: finalPath, name: spec.fileName, bytes: size, sha256: sink.sha256(), contentType, encoding, rows },
  };
}

/** Hashes every byte and, when asked, counts CSV rows of the decoded content, passing bytes through unchanged. */
class VerifyingSink extends Transform {
  private readonly hash = crypto.createHash('sha256');
  private readonly counter: CsvRowCounter | null;
  private readonly gunzip: zlib.Gunzip | null;
  private gunzipError: Error | null = null;

  constructor(countRows: boolean, gzipped: boolean) {
    super();
    this.counter = countRows ? new CsvRowCounter() : null;
    this.gunzip = this.counter && gzipped ? zlib.createGunzip() : null;
    if (this.gunzip && this.counter) {
      const counter = this.counter;
      this.gunzip.on('data', (chunk: Buffer) => counter.push(chunk));
      this.gunzip.on('error', (err) => (this.gunzipError = err));
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.observe(chunk).then(() => done(null, chunk), done);
  }

  /** Resolves once the decoder can take more, so a slow gunzip slows the download instead of filling memory. */
  private observe(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    const gunzip = this.gunzip;
    if (!gunzip) {
      this.counter?.push(chunk);
      return Promise.resolve();
    }
    if (this.gunzipError || gunzip.write(chunk)) return Promise.resolve();
    return new Promise((resolve) => {
      const settle = () => {
        gunzip.off('drain', settle);
        gunzip.off('error', settle);
        resolve();
      };
      gunzip.on('drain', settle);
      gunzip.on('error', settle);
    });
  }

  /** Feeds the bytes already on disk from an earlier attempt, so hash and count cover the whole file. */
  async replayPrefix(file: string, length: number): Promise<void> {
    for await (const chunk of fs.createReadStream(file, { start: 0, end: length - 1 }))
      await this.observe(chunk as Buffer);
  }

  async finish(): Promise<number | null> {
    if (this.gunzip) {
      const gunzip = this.gunzip;
      await new Promise<void>((resolve, reject) => {
        if (this.gunzipError) return reject(this.gunzipError);
        gunzip.once('error', reject);
        gunzip.once('end', resolve);
        gunzip.end();
        gunzip.resume();
      });
    }
    return this.counter ? this.counter.dataRows() : null;
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}

async function usableResumePoint(partPath: string, resume: ResumePoint | undefined): Promise<ResumePoint | undefined> {
  if (!resume || resume.offset <= 0) return undefined;
  try {
    const stat = await fsp.stat(partPath);
    if (stat.size < resume.offset) return undefined;
    // Bytes past the last heartbeat were never acknowledged; cut them and fetch them again.
    if (stat.size > resume.offset) await fsp.truncate(partPath, resume.offset);
    return resume;
  } catch {
    return undefined;
  }
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

function downloadFailure(spec: DownloadSpec, err: unknown): VendorError {
  if (err instanceof VendorError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new VendorError(
      ERROR_TYPES.storage,
      `cannot write ${spec.fileName} into ${spec.dir}: ${code} (${(err as Error).message})`,
      false,
      { vendor: spec.vendor, endpoint: 'download' },
    );
  }
  const at = `${vendorLabel(spec)} download of ${spec.fileName} (${redactUrl(spec.url)})`;
  return new VendorError(
    ERROR_TYPES.integrity,
    `${at} was interrupted: ${snippet((err as Error)?.message ?? String(err))}`,
    true,
    {
      vendor: spec.vendor,
      endpoint: 'download',
    },
  );
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

async function fsyncFile(file: string): Promise<void> {
  const handle = await fsp.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  }
}
