import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ContentChecker, ContentFacts } from './content-check';

/**
 * The thread's entry, beside this file in src/ and in dist/ alike (scripts/build copies the .cjs unchanged): it
 * loads content-check-thread.body (.js when built, .ts through tsx in a checkout).
 */
const THREAD_ENTRY = path.join(__dirname, 'content-check-thread.entry.cjs');
/** Bytes are copied into batches of this size and handed (transferred, not copied again) to the worker. */
const BATCH = 1024 * 1024;
/** Batches the worker may lag behind before the download waits for it: bounds memory to ~4 MiB. */
const MAX_IN_FLIGHT = 4;

type FromWorker = { type: 'ack' } | { type: 'done'; facts: ContentFacts } | { type: 'error'; message: string };

/**
 * The same checks as InlineContentChecker (sha256, gunzip, CSV rows) on a worker thread, so a large download
 * uses a second core: the event loop only receives, copies and writes bytes. Memory stays bounded by
 * MAX_IN_FLIGHT batches; the download waits when the worker falls behind.
 */
export class WorkerContentChecker implements ContentChecker {
  private readonly worker: Worker;
  private batch = Buffer.allocUnsafeSlow(BATCH);
  private filled = 0;
  private inFlight = 0;
  private waiting: (() => void) | null = null;
  private failure: Error | null = null;
  private result: Promise<ContentFacts>;

  constructor(countRows: boolean, gzipped: boolean) {
    this.worker = new Worker(THREAD_ENTRY, { workerData: { countRows, gzipped } });
    this.result = new Promise<ContentFacts>((resolve, reject) => {
      this.worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ack') {
          this.inFlight--;
          this.wake();
        } else if (msg.type === 'done') resolve(msg.facts);
        else reject(new Error(msg.message));
      });
      this.worker.once('error', (err) => {
        this.failure = err;
        this.wake();
        reject(err);
      });
      this.worker.once('exit', (code) => {
        this.failure ??= new Error(`content check worker exited (${code})`);
        this.wake();
        reject(this.failure);
      });
    });
    this.result.catch(() => undefined); // surfaced by finish()
  }

  observe(chunk: Buffer): Promise<void> | undefined {
    let at = 0;
    while (at < chunk.length) {
      const n = chunk.copy(this.batch, this.filled, at);
      this.filled += n;
      at += n;
      if (this.filled === BATCH) this.send();
    }
    if (this.inFlight < MAX_IN_FLIGHT || this.failure) return undefined;
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async finish(): Promise<ContentFacts> {
    if (this.filled > 0) this.send();
    this.worker.postMessage({ type: 'end' });
    return factsThenStop(this.worker, this.result);
  }

  close(): void {
    void this.worker.terminate();
  }

  private send(): void {
    const buffer = this.batch.buffer;
    this.worker.postMessage({ type: 'chunk', buffer, offset: this.batch.byteOffset, length: this.filled }, [buffer]);
    this.inFlight++;
    this.batch = Buffer.allocUnsafeSlow(BATCH);
    this.filled = 0;
  }

  private wake(): void {
    if (this.waiting && (this.inFlight < MAX_IN_FLIGHT || this.failure)) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve();
    }
  }
}

/** Waits for a check thread's facts, then ends the thread whatever the outcome. */
export async function factsThenStop(worker: Worker, result: Promise<ContentFacts>): Promise<ContentFacts> {
  try {
    return await result;
  } finally {
    void worker.terminate();
  }
}
