import fs from 'node:fs';
import { InlineContentChecker, type ContentFacts } from './content-check';

/** Read-back size: the checker catches up in reads of this size once the file is this far ahead of it. */
const READ = 1024 * 1024;

/**
 * Hashes (and counts CSV rows of) a file while it is being written, by reading it back from the page cache in
 * order up to the position the download says is written from byte 0: the download only moves bytes from the
 * socket to the file. Stored bytes of an earlier attempt and ranges written ahead are simply read when their
 * turn comes, so a resumed or multi-connection file is checked whole, in order, as stored.
 *
 * It runs on the calling thread (sha256 and row counting are synchronous and fast; a gunzip runs in the libuv
 * pool): a check thread cost a fresh worker ~12 MiB of RSS, its start-up CPU and a message per MiB, for no
 * throughput the bench could see on a loaded machine. Memory: one 1 MiB read buffer (a gzipped file gets a fresh
 * buffer per read, which the gunzip stream holds until it has inflated it).
 */
export class FileChecker {
  private readonly checker: InlineContentChecker;
  private readonly reusable: Buffer | null;
  private fd: number | null = null;
  private checked = 0;
  private target = 0;
  private running: Promise<void> | null = null;
  private failure: Error | null = null;
  private closed = false;

  constructor(
    private readonly file: string,
    countRows: boolean,
    private readonly gzipped: boolean,
  ) {
    this.checker = new InlineContentChecker(countRows, gzipped);
    this.reusable = gzipped ? null : Buffer.allocUnsafeSlow(READ);
  }

  /** Bytes 0..`at` are written. */
  advance(at: number): void {
    if (at > this.target) this.target = at;
    if (this.target - this.checked >= READ) void this.kick();
  }

  /** The file is complete at `size` bytes: resolves with its facts; rejects on a corrupt gzip stream. */
  async finish(size: number): Promise<ContentFacts> {
    this.target = size;
    try {
      // A run may have stopped short of the new target: go again until everything is read.
      while (!this.failure && !this.closed && this.checked < size) await this.kick();
      if (this.failure) throw this.failure;
      if (this.checked < size) throw new Error('the content check was stopped');
      return await this.checker.finish();
    } finally {
      this.close();
    }
  }

  /** Stops reading and releases the file and the gunzip stream (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.checker.close();
    if (this.running) void this.running.then(() => this.closeFd());
    else this.closeFd();
  }

  private kick(): Promise<void> {
    if (this.closed || this.failure) return Promise.resolve();
    this.running ??= this.catchUp().finally(() => {
      this.running = null;
      if (this.closed) this.closeFd();
    });
    return this.running;
  }

  private async catchUp(): Promise<void> {
    try {
      this.fd ??= await new Promise<number>((resolve, reject) =>
        fs.open(this.file, 'r', (err, fd) => (err ? reject(err) : resolve(fd))),
      );
      while (this.checked < this.target && !this.closed) {
        const want = Math.min(READ, this.target - this.checked);
        const buf = this.reusable ?? Buffer.allocUnsafe(want);
        const fd = this.fd;
        const got = await new Promise<number>((resolve, reject) =>
          fs.read(fd, buf, 0, want, this.checked, (err, n) => (err ? reject(err) : resolve(n))),
        );
        if (got <= 0) throw new Error(`the file ends at ${this.checked} bytes, ${this.target} were written`);
        this.checked += got;
        const pending = this.checker.observe(buf.subarray(0, got));
        if (pending) await pending;
      }
    } catch (err) {
      this.failure ??= err as Error;
    }
  }

  private closeFd(): void {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) fs.close(fd, () => undefined);
  }
}
