import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { statusError } from '../../../providers/http';
import type { ContentFacts } from '../checks/content-check';
import type { DownloadSpec, RangeState, ResumePoint } from '../types';
import { FileChecker } from '../checks/file-check';
import type { LocalFileSink } from '../sinks/local-sink';
import { contiguousEnd } from '../ranges';
import { requestFollowingRedirects } from './redirects';
import { ShortBodyError, writeBodyAt } from './range-writer';

/** The entity changed or the server does not really serve ranges: start again on one connection. */
export class UnstableEntity extends Error {
  override name = 'UnstableEntity';
}

export interface DirectJob {
  spec: DownloadSpec;
  label: string;
  sink: LocalFileSink;
  dispatcher: Dispatcher;
  /** An answer already received: the whole file (200) or its continuation from `ranges[0].at` (206). */
  first?: Dispatcher.ResponseData;
  /** [start, end) pieces to fetch; one piece with `end` = Infinity means "one connection, to the body's end". */
  ranges: RangeState[];
  total: number | undefined;
  etag?: string;
  lastModified?: string;
  gzipped: boolean;
}

export interface DirectResult {
  size: number;
  /** Content-Type of a range answer, when no `first` answer gave one. */
  contentType?: string;
  /** Waits for the checker; rejects when a gzip stream is corrupt. */
  facts(): Promise<ContentFacts>;
}

/**
 * The fast path to a local file: each connection writes its body at its offset (range-writer), and a FileChecker
 * hashes and counts the file in order beside it. With several ranges, every range is its own connection with
 * `If-Range`; anything that says the entity is not stable rejects with UnstableEntity. `point()` is where a next
 * attempt may resume (each range where its bytes are written).
 */
export class DirectDownload {
  private readonly checker: FileChecker;
  private contentType: string | undefined;

  constructor(private readonly job: DirectJob) {
    this.checker = new FileChecker(job.sink.partFile(), job.spec.countCsvRows, job.gzipped);
  }

  point(): ResumePoint {
    const { ranges, total, etag, lastModified } = this.job;
    const offset = contiguousEnd(ranges);
    const multi = ranges.length > 1;
    return { offset, etag, lastModified, total, ...(multi ? { ranges: ranges.map((r) => ({ ...r })) } : {}) };
  }

  async run(): Promise<DirectResult> {
    const { job } = this;
    const fd = await job.sink.openFd(job.ranges.length > 1 ? 'keep' : job.ranges[0]!.at);
    this.checker.advance(contiguousEnd(job.ranges));
    const stop = new AbortController();
    const signal = job.spec.signal ? AbortSignal.any([job.spec.signal, stop.signal]) : stop.signal;
    const single = job.ranges.length === 1 && !Number.isFinite(job.ranges[0]!.end);
    const settled = await Promise.allSettled(
      job.ranges.map(async (range, i) => {
        if (range.at >= range.end) return;
        const body = i === 0 && job.first ? job.first.body : await this.fetchRange(range, signal);
        const onAbort = () => body.destroy();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await writeBodyAt(body, fd, range.at, single ? undefined : range.end, (position) => {
            range.at = position;
            this.checker.advance(contiguousEnd(job.ranges));
          });
        } catch (err) {
          stop.abort();
          throw err;
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      }),
    );
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
    if (failures.length > 0) {
      this.checker.close();
      const unstable = failures.find((e) => e instanceof UnstableEntity || e instanceof ShortBodyError);
      if (unstable && !job.spec.signal?.aborted && !single) throw new UnstableEntity(unstable.message);
      throw failures.find((e) => !(e instanceof ShortBodyError) && e.name !== 'AbortError') ?? failures[0]!;
    }
    const size = single ? job.ranges[0]!.at : contiguousEnd(job.ranges);
    if (single) job.ranges[0]!.end = size;
    return { size, contentType: this.contentType, facts: () => this.checker.finish(size) };
  }

  close(): void {
    this.checker.close();
  }

  /** Requests one range with If-Range; only a 206 for exactly that range of the same entity is accepted. */
  private async fetchRange(range: RangeState, signal: AbortSignal): Promise<Readable> {
    const { job } = this;
    const validator = job.etag && !job.etag.startsWith('W/') ? job.etag : job.lastModified;
    const { res } = await requestFollowingRedirects({
      vendor: job.spec.vendor,
      label: job.label,
      url: job.spec.url,
      credentials: job.spec.headers,
      headers: { range: `bytes=${range.at}-${range.end - 1}`, ...(validator ? { 'if-range': validator } : {}) },
      maxRedirects: job.spec.maxRedirects ?? 0,
      signal,
      dispatcher: job.dispatcher,
    });
    const fail = async (err: Error): Promise<never> => {
      await res.body.dump().catch(() => undefined);
      throw err;
    };
    if (res.statusCode === 200) return fail(new UnstableEntity(`${job.label}: answered 200 to a range request`));
    if (res.statusCode !== 206) {
      const text = await res.body.text().catch(() => '');
      throw (
        job.spec.classifyStatus?.(res.statusCode, text) ??
        statusError(job.spec.vendor, 'download', { status: res.statusCode, headers: res.headers, text })
      );
    }
    const vetoed = job.spec.checkResponse?.(res.headers);
    if (vetoed) return fail(vetoed);
    const cr = /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i.exec(String(res.headers['content-range'] ?? ''));
    if (!cr || Number(cr[1]) !== range.at || Number(cr[2]) !== range.end - 1 || Number(cr[3]) !== job.total) {
      return fail(new UnstableEntity(`${job.label}: a range answer covers other bytes than asked`));
    }
    const etag = one(res.headers.etag);
    const lastModified = one(res.headers['last-modified']);
    if (
      (job.etag !== undefined && etag !== job.etag) ||
      (job.lastModified !== undefined && lastModified !== job.lastModified)
    ) {
      return fail(new UnstableEntity(`${job.label}: the file changed between ranges`));
    }
    this.contentType ??= one(res.headers['content-type']);
    return res.body;
  }
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
