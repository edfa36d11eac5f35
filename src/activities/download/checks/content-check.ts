import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { CsvRowCounter, type CsvFacts } from './row-counter';

/** What checking a file's content yields: the sha256 of the stored bytes and, when asked, its CSV data rows. */
export interface ContentFacts {
  sha256: string;
  rows: number | null;
  /** Records (header included) and the first record's sha256, when rows are counted. */
  csv: CsvFacts | null;
}

/** Checks a file's bytes as they stream by; `observe` resolves when the checker can take more. */
export interface ContentChecker {
  observe(chunk: Buffer): Promise<void> | undefined;
  /** Rejects when a gzip stream is truncated or corrupt. */
  finish(): Promise<ContentFacts>;
  /** Releases resources after a failure (idempotent). */
  close(): void;
}

/**
 * sha256 of every byte and, when asked, CSV rows of the decoded content (gunzip on the fly). Runs on the calling
 * thread; a slow gunzip makes `observe` return a promise, so the download slows instead of filling memory.
 */
export class InlineContentChecker implements ContentChecker {
  private readonly hash = crypto.createHash('sha256');
  private readonly counter: CsvRowCounter | null;
  private readonly gunzip: zlib.Gunzip | null;
  private gunzipError: Error | null = null;

  constructor(countRows: boolean, gzipped: boolean) {
    this.counter = countRows ? new CsvRowCounter() : null;
    // A deep input buffer lets the download run on while zlib inflates in the thread pool.
    this.gunzip =
      this.counter && gzipped
        ? zlib.createGunzip({ chunkSize: 128 * 1024, highWaterMark: 4 * 1024 * 1024 } as zlib.ZlibOptions)
        : null;
    if (this.gunzip && this.counter) {
      const counter = this.counter;
      this.gunzip.on('data', (chunk: Buffer) => counter.push(chunk));
      this.gunzip.on('error', (err) => (this.gunzipError = err));
    }
  }

  observe(chunk: Buffer): Promise<void> | undefined {
    this.hash.update(chunk);
    const gunzip = this.gunzip;
    if (!gunzip) {
      this.counter?.push(chunk);
      return undefined;
    }
    if (this.gunzipError || gunzip.write(chunk)) return undefined;
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

  async finish(): Promise<ContentFacts> {
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
    const counter = this.counter;
    return {
      sha256: this.hash.digest('hex'),
      rows: counter ? counter.dataRows() : null,
      csv: counter ? counter.facts() : null,
    };
  }

  close(): void {
    this.gunzip?.destroy();
  }
}
