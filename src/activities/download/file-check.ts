import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ContentFacts } from './content-check';
import { factsThenStop } from './worker-check';

type FromWorker = { type: 'done'; facts: ContentFacts } | { type: 'error'; message: string };

/** Tell the worker about new bytes at most this often (bytes), so messages stay rare on any link speed. */
const NOTIFY_STEP = 1024 * 1024;

/**
 * Hashes (and counts CSV rows of) a file while it is being written, on a worker thread that reads it back from
 * the page cache: the download only moves bytes from the socket to the file and now and then says how far the
 * file is written from byte 0. Stored bytes of an earlier attempt are simply read too, so a resumed file is
 * checked whole. Memory: one 1 MiB read buffer on the worker, whatever the file size.
 */
export class FileChecker {
  private readonly worker: Worker;
  private readonly result: Promise<ContentFacts>;
  private told = 0;

  constructor(file: string, countRows: boolean, gzipped: boolean) {
    this.worker = new Worker(path.join(__dirname, 'file-check-worker.cjs'), {
      workerData: { file, countRows, gzipped },
      execArgv: [],
      // The worker holds a read buffer and zlib state only: a small young generation keeps its RSS small.
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 },
    });
    this.result = new Promise<ContentFacts>((resolve, reject) => {
      this.worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'done') resolve(msg.facts);
        else reject(new Error(msg.message));
      });
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`file check worker exited (${code})`)));
    });
    this.result.catch(() => undefined); // surfaced by finish()
  }

  /** Bytes 0..`at` are written. */
  advance(at: number): void {
    if (at - this.told < NOTIFY_STEP) return;
    this.told = at;
    this.worker.postMessage({ type: 'upTo', at });
  }

  /** The file is complete at `size` bytes: resolves with its facts; rejects on a corrupt gzip stream. */
  async finish(size: number): Promise<ContentFacts> {
    this.worker.postMessage({ type: 'end', at: size });
    return factsThenStop(this.worker, this.result);
  }

  close(): void {
    void this.worker.terminate();
  }
}
