import { pipeline } from 'node:stream/promises';
import { Agent } from 'undici';
import { requestFollowingRedirects } from './fetch/redirects';
import { parseRetryAfter } from '../../providers/errors';
import { FAILURE_TYPES } from '../../shared/failure-types';
import { contentCheckError, downloadFailure, integrityError, vendorLabel } from './download-errors';
import { observeBytes } from '../../providers/observe';
import { runDirect } from './fetch/direct-run';
import { LocalFileSink } from './sinks/local-sink';
import { splitRanges } from './ranges';
import { withFileClaim } from './sinks/file-claim';
import { defaultDownloadError, header, numberHeader, parseContentRange, sameEntity } from './fetch/response-facts';
import { fileSinkFor } from './sinks/sink-for';
import type { DownloadOutcome, DownloadSpec, FileSink, ResumePoint } from './types';
import { VerifyingStream, WORKER_CHECK_MIN_BYTES } from './checks/verify';

const MULTI_RANGE_MIN_BYTES = 64 * 1024 * 1024;

/** Long bodies may pause, but a connection silent for two minutes is dead. */
export const downloadAgent = new Agent({ connectTimeout: 15_000, headersTimeout: 120_000, bodyTimeout: 120_000 });

/** The engine's entry: callers take these shapes from here (they live in types.ts, beside the sinks' interface). */
export type { DownloadOutcome, DownloadSpec, ResumePoint } from './types';
/** GC pressure for a worker's downloads: the caller turns it on, once (young-gc.ts, README.md "Memory"). */
export { enableYoungGenerationCollection } from './young-gc';

const PROGRESS_INTERVAL_MS = 1000;

/**
 * Streams one vendor file to `<dir>/<fileName>`: body -> sha256 (+ gunzip -> CSV row count) -> storage (a local
 * `.part` file -> fsync -> rename, or an S3 multipart upload completed at the end). Memory stays constant; the
 * file appears under its final name only when complete and verified (length, gzip stream). With `resume`,
 * continues with a Range request when the server answers 206 for the same entity, and starts clean otherwise.
 * The map of the engine (folders, the path of one download, who may import whom): ./README.md.
 */
export function downloadToFile(spec: DownloadSpec): Promise<DownloadOutcome> {
  // One writer per file in this process: a newer attempt of the same download stops this one first.
  const key = `${spec.dir.replace(/\/+$/, '')}/${spec.fileName}`;
  return withFileClaim(key, (lost) => {
    const signal = spec.signal ? AbortSignal.any([spec.signal, lost]) : lost;
    return downloadOnce({ ...spec, signal });
  });
}

/** downloadToFile without the claim (restarts within one download call this again). */
async function downloadOnce(spec: DownloadSpec): Promise<DownloadOutcome> {
  const sink = fileSinkFor(spec.dir, spec.fileName);
  let resume: ResumePoint | undefined;
  try {
    resume = await sink.usableResume(spec.resume);
  } catch (err) {
    throw downloadFailure(spec, err);
  }
  const connections = spec.connections ?? 1;
  const dispatcher = spec.dispatcher ?? downloadAgent;
  if (resume?.ranges) {
    if (sink instanceof LocalFileSink && connections > 1) {
      // Each range continues where the last heartbeat left it, on its own connection.
      const { total, etag, lastModified } = resume;
      const ranges = resume.ranges.map((r) => ({ ...r })); // the caller's heartbeat stays as it was
      const gzipped = /\.gz$/i.test(spec.fileName);
      const plan = { ranges, total, etag, lastModified, gzipped, encoding: null, dispatcher };
      return runDirect(spec, sink, plan, downloadOnce);
    }
    // One connection now: continue after the part written without a gap (if there is one).
    const { offset, etag, lastModified, total } = resume;
    resume = offset > 0 ? { offset, etag, lastModified, total } : undefined;
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
    dispatcher,
  });

  if (spec.notReadyStatuses?.includes(res.statusCode)) {
    await res.body.dump();
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
    return { ready: false, status: res.statusCode, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (resume && res.statusCode === 416) {
    // The stored bytes reach past the file (it shrank, or only the rename was left): start over.
    await res.body.dump();
    return downloadOnce({ ...spec, resume: undefined });
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
      return downloadOnce({ ...spec, resume: undefined });
    }
    offset = resume.offset;
  }

  const encoding = /gzip/i.test(header(res.headers, 'content-encoding') ?? '') ? ('gzip' as const) : null;
  const gzipped = encoding === 'gzip' || /\.gz$/i.test(spec.fileName);
  const contentType = (header(res.headers, 'content-type') ?? spec.contentTypeFallback ?? 'application/octet-stream')
    .split(';')[0]!
    .trim();
  const length = numberHeader(res.headers, 'content-length');
  const expectedTotal = range ? (range.total ?? (length !== undefined ? offset + length : undefined)) : length;

  const fastFrom = Math.min(WORKER_CHECK_MIN_BYTES, spec.multiRangeMinBytes ?? WORKER_CHECK_MIN_BYTES);
  if (sink instanceof LocalFileSink && expectedTotal !== undefined && expectedTotal >= fastFrom) {
    // Large local files take the fast path: socket -> file; the checks read the file back in order beside it.
    const validator = (etag && !etag.startsWith('W/')) || lastModified;
    const multi =
      res.statusCode === 200 &&
      connections > 1 &&
      /\bbytes\b/i.test(header(res.headers, 'accept-ranges') ?? '') &&
      Boolean(validator) &&
      encoding === null &&
      expectedTotal >= (spec.multiRangeMinBytes ?? MULTI_RANGE_MIN_BYTES);
    const ranges = multi
      ? splitRanges(expectedTotal, connections)
      : [{ start: 0, end: Number.POSITIVE_INFINITY, at: offset }];
    const plan = {
      first: res,
      ranges,
      total: expectedTotal,
      etag,
      lastModified,
      gzipped,
      encoding,
      contentType,
      dispatcher,
    };
    return runDirect(spec, sink, plan, downloadOnce);
  }

  let rows: number | null = null;
  // Whether the stored bytes are worth a Range request on the next attempt.
  let keepStored = true;
  const verifier = new VerifyingStream(
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
        throw contentCheckError(spec, gzipped, err);
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
    const keep = keepStored && !(failure.type === FAILURE_TYPES.storage && !failure.retryable);
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
