import { Transform, type TransformCallback } from 'node:stream';
import { InlineContentChecker, type ContentChecker, type ContentFacts } from './content-check';
import { WorkerContentChecker } from './content-check-thread';

/** Room for a few 64 KiB network chunks between stages, so each stage works on batches, not single chunks. */
const STAGE_BUFFER = 1024 * 1024;
/** From this size on, hashing and row counting run on a worker thread, beside the download (see content-check-thread). */
export const WORKER_CHECK_MIN_BYTES = 32 * 1024 * 1024;

/**
 * Passes bytes through unchanged while a ContentChecker hashes them (and counts CSV rows). Holds back the end of
 * the stream until `beforeEnd` passes, so a sink that commits on end (an S3 multipart upload) never commits a
 * short or corrupt file.
 */
export class VerifyingStream extends Transform {
  /** Bytes that passed through (not counting a replayed prefix). */
  bytes = 0;
  private readonly checker: ContentChecker;
  private facts: ContentFacts | undefined;

  constructor(
    countRows: boolean,
    gzipped: boolean,
    private readonly beforeEnd: (bytes: number) => Promise<void> = async () => undefined,
    expectedBytes?: number,
  ) {
    super({ highWaterMark: STAGE_BUFFER });
    const large = expectedBytes !== undefined && expectedBytes >= WORKER_CHECK_MIN_BYTES;
    this.checker = large ? new WorkerContentChecker(countRows, gzipped) : new InlineContentChecker(countRows, gzipped);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    const pending = this.checker.observe(chunk);
    if (pending) pending.then(() => done(null, chunk), done);
    else done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.beforeEnd(this.bytes).then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.checker.close();
    done(err);
  }

  /** Feeds bytes already stored by an earlier attempt, so hash and count cover the whole file. */
  async replay(chunks: AsyncIterable<Buffer>): Promise<void> {
    for await (const chunk of chunks) await this.checker.observe(chunk);
  }

  /** Ends the check; rejects when the gzip stream is truncated or corrupt. Resolves with the data-row count. */
  async finish(): Promise<number | null> {
    this.facts = await this.checker.finish();
    return this.facts.rows;
  }

  /** Records and first-record hash of the decoded CSV (null when rows are not counted); valid after `finish`. */
  csv(): ContentFacts['csv'] {
    if (!this.facts) throw new Error('csv() before finish()');
    return this.facts.csv;
  }

  /** The sha256 of everything observed; valid after `finish`. */
  sha256(): string {
    if (!this.facts) throw new Error('sha256() before finish()');
    return this.facts.sha256;
  }
}
