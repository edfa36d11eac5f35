import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { InlineContentChecker } from './content-check';

/**
 * The worker side of FileChecker: reads the file being downloaded back from the page cache, in order, up to
 * the position the download says is written, and hashes / gunzips / counts it. Nothing is copied between threads.
 */
const { file, countRows, gzipped } = workerData as { file: string; countRows: boolean; gzipped: boolean };
const READ = 1024 * 1024;
const port = parentPort!;
const checker = new InlineContentChecker(countRows, gzipped);
const reusable = gzipped ? null : Buffer.allocUnsafeSlow(READ);
let fd: number | null = null;
let checked = 0;
let target = 0;
let ending = false;
let running = false;
let failed = false;

type ToWorker = { type: 'upTo'; at: number } | { type: 'end'; at: number };

port.on('message', (msg: ToWorker) => {
  target = Math.max(target, msg.at);
  if (msg.type === 'end') ending = true;
  void run();
});

async function run(): Promise<void> {
  if (running || failed) return;
  running = true;
  try {
    fd ??= fs.openSync(file, 'r');
    while (checked < target) {
      const want = Math.min(READ, target - checked);
      // A gunzip stream keeps the buffer until it has inflated it, so it gets a fresh one each time.
      const buf = reusable ?? Buffer.allocUnsafe(want);
      const got = fs.readSync(fd, buf, 0, want, checked);
      if (got <= 0) throw new Error(`the file ends at ${checked} bytes, ${target} were written`);
      checked += got;
      const pending = checker.observe(buf.subarray(0, got));
      if (pending) await pending;
    }
    if (ending) {
      ending = false;
      port.postMessage({ type: 'done', facts: await checker.finish() });
    }
  } catch (err) {
    failed = true;
    port.postMessage({ type: 'error', message: (err as Error).message });
  } finally {
    running = false;
  }
}
