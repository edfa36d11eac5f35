import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { describe, test } from 'node:test';
import { InlineContentChecker, type ContentChecker } from '../../src/activities/download/checks/content-check';
import { WorkerContentChecker } from '../../src/activities/download/checks/content-check-thread';
import { csvBytesOf } from '../../src/simulator';

async function feed(checker: ContentChecker, data: Buffer, chunk = 65_536) {
  for (let i = 0; i < data.length; i += chunk) await checker.observe(data.subarray(i, i + chunk));
  return checker.finish();
}

/** Large downloads are checked on a worker thread; it must find exactly what the inline checker finds. */
describe('content checks on a worker thread', () => {
  const csv = csvBytesOf('worker-check', 60_000); // ~4.5 MB: several batches, some waits for the worker
  const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

  test('sha256 and CSV rows match the inline checker, for plain and gzip content', async () => {
    const gz = zlib.gzipSync(csv);
    for (const [data, gzipped] of [
      [csv, false],
      [gz, true],
    ] as const) {
      const inline = await feed(new InlineContentChecker(true, gzipped), data);
      const worker = await feed(new WorkerContentChecker(true, gzipped), data, 10_000);
      assert.deepEqual(worker, inline);
      assert.equal(worker.sha256, sha(data));
      assert.equal(worker.rows, 60_000);
    }
  });

  test('a corrupt gzip stream makes the worker check fail', async () => {
    const gz = zlib.gzipSync(csv);
    await assert.rejects(feed(new WorkerContentChecker(true, true), gz.subarray(0, gz.length - 50)));
  });

  test('without row counting the worker only hashes', async () => {
    assert.deepEqual(await feed(new WorkerContentChecker(false, false), csv), {
      sha256: sha(csv),
      rows: null,
      csv: null,
    });
  });
});
