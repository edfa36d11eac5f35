import { parentPort, workerData } from 'node:worker_threads';
import { InlineContentChecker } from './content-check';

/**
 * The thread side of WorkerContentChecker (content-check-thread.ts), started through content-check-thread.entry.cjs:
 * checks batches in order and acknowledges each one.
 */
const { countRows, gzipped } = workerData as { countRows: boolean; gzipped: boolean };
const checker = new InlineContentChecker(countRows, gzipped);
const port = parentPort!;
let queue = Promise.resolve();

type ToWorker = { type: 'chunk'; buffer: ArrayBuffer; offset: number; length: number } | { type: 'end' };

port.on('message', (msg: ToWorker) => {
  queue = queue.then(async () => {
    if (msg.type === 'chunk') {
      await checker.observe(Buffer.from(msg.buffer, msg.offset, msg.length));
      port.postMessage({ type: 'ack' });
      return;
    }
    try {
      port.postMessage({ type: 'done', facts: await checker.finish() });
    } catch (err) {
      port.postMessage({ type: 'error', message: (err as Error).message });
    }
  });
});
