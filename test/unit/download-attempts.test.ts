import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { downloadToFile, type DownloadSpec, type ResumePoint } from '../../src/activities/download/engine';
import { hasProgress } from '../../src/activities/download/sinks/local-sink';
import { csvBytesOf } from '../../src/simulator';
import { csvSpec } from '../helpers/downloads';
import { rangeServerForSuite } from '../helpers/range-server';
import { tempDir, waitFor } from '../helpers/processes';

const MiB = 1024 * 1024;
const shaOf = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

/**
 * Two attempts of one download at once (a retry started after a missed heartbeat while the old attempt still
 * runs): the newer one stops the older one before it touches the file, continues from the older one's last
 * progress point, and the stored file is exactly the bytes whose sha256 it reports. Every write path: the
 * streaming one (small file), the direct one on one connection, and several ranges.
 */
describe('two attempts of one download', () => {
  const body = csvBytesOf('attempts', 60_000); // ~4.5 MB
  const sha = shaOf(body);
  const server = rangeServerForSuite(body);
  const { mode } = server;

  const cases: { name: string; extra: Partial<DownloadSpec> }[] = [
    { name: 'streaming path', extra: { connections: 1 } },
    { name: 'direct path, one connection', extra: { connections: 1, multiRangeMinBytes: MiB } },
    { name: 'direct path, 4 ranges', extra: { connections: 4, multiRangeMinBytes: MiB } },
  ];
  for (const { name, extra } of cases) {
    test(`${name}: the newer attempt stops the older one first, and the stored bytes match its sha256`, async () => {
      const dir = tempDir('attempts');
      const spec = (more: Partial<DownloadSpec>): DownloadSpec => csvSpec(server.url, dir, { ...extra, ...more });
      // The old attempt is slow (300 kB/s per connection: 4 s or more for the file) and still writing when the
      // new one starts.
      mode.cap = 300_000;
      let oldPoint: ResumePoint | undefined;
      let oldSettledAt = Number.POSITIVE_INFINITY;
      const older = downloadToFile(spec({ onProgress: (p) => (oldPoint = p) })).finally(
        () => (oldSettledAt = performance.now()),
      );
      older.catch(() => undefined);
      const part = path.join(dir, '.data.csv.part');
      await waitFor(
        'the old attempt writing and heartbeating',
        () => oldPoint !== undefined && hasProgress(oldPoint) && fs.statSync(part).size > 0,
        60_000,
        10,
      );
      const requestsBefore = server.seen.length;
      mode.cap = 0;
      const newer = await downloadToFile(spec({ resume: oldPoint }));

      await assert.rejects(older, 'the old attempt stopped instead of finishing');
      const newRequests = server.seen.slice(requestsBefore);
      assert.ok(newRequests.length > 0);
      assert.ok(
        newRequests.every((r) => r.at > oldSettledAt),
        'the new attempt sent no request before the old attempt had stopped and closed the file',
      );
      assert.ok(newer.ready);
      assert.equal(newer.file.sha256, sha);
      assert.equal(newer.file.rows, 60_000);
      assert.ok(newer.resumed, 'the new attempt continued the bytes the old one stored');
      assert.equal(shaOf(fs.readFileSync(path.join(dir, 'data.csv'))), newer.file.sha256, 'stored bytes = manifest');
      assert.deepEqual(fs.readdirSync(dir), ['data.csv']);
    });
  }
});
