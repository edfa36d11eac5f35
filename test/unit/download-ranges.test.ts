import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { downloadToFile, type DownloadSpec, type ResumePoint } from '../../src/activities/download/engine';
import { contiguousEnd, splitRanges, validRanges } from '../../src/activities/download/ranges';
import { csvBytesOf } from '../../src/simulator';
import { rangeServerForSuite, type RangeServerMode } from '../helpers/range-server';
import { csvSpec } from '../helpers/downloads';
import { tempDir } from '../helpers/processes';

const MiB = 1024 * 1024;

/** Multi-connection ranges (fast path, test threshold 1 MiB): the split, fallbacks, and resuming each range. */
describe('multi-connection range downloads', () => {
  const body = csvBytesOf('ranges', 100_000); // ~7.5 MB: 4 ranges of 2 MiB (the last shorter)
  const sha = crypto.createHash('sha256').update(body).digest('hex');
  const server = rangeServerForSuite(body);
  const { mode } = server;

  const spec = (dir: string, extra: Partial<DownloadSpec> = {}): DownloadSpec =>
    csvSpec(server.url, dir, {
      headers: { authorization: 'Bearer t' },
      connections: 4,
      multiRangeMinBytes: MiB,
      ...extra,
    });

  test('a large file with a validator arrives as 4 ranges, byte-identical, with rows and header facts', async () => {
    const dir = tempDir('ranges');
    const points: ResumePoint[] = [];
    const out = await downloadToFile(spec(dir, { onProgress: (p) => points.push(p) }));
    assert.ok(out.ready);
    assert.equal(out.file.sha256, sha);
    assert.equal(out.file.rows, 100_000);
    assert.equal(out.csv?.records, 100_001);
    assert.ok(fs.readFileSync(path.join(dir, 'data.csv')).equals(body));
    const ranged = server.seen.filter((s) => s.range);
    assert.equal(server.seen.length, 4, 'the first answer serves range 0, three range requests follow');
    assert.ok(ranged.every((s) => s.ifRange === '"v1"' && s.status === 206));
    const last = points.at(-1)!;
    assert.equal(last.offset, body.length);
    assert.equal(last.ranges?.length, 4);
    assert.ok(
      last.ranges!.every((r) => r.at === r.end),
      `last point ${JSON.stringify(last)}`,
    );
  });

  test('connections 1 (or a small file) uses one connection', async () => {
    const out = await downloadToFile(spec(tempDir('ranges'), { connections: 1 }));
    assert.ok(out.ready && out.file.sha256 === sha);
    assert.deepEqual(
      server.seen.map((s) => s.range),
      [undefined],
    );
  });

  for (const [name, change] of [
    ['the validator changes between ranges', (m: RangeServerMode) => (m.rangeEtag = '"v2"')],
    ['the server answers 200 to a range request', (m: RangeServerMode) => (m.ignoreRanges = true)],
    ['a range answer is short', (m: RangeServerMode) => (m.shortBy = 1000)],
  ] as const) {
    test(`falls back to one connection from a clean start when ${name}`, async () => {
      change(mode);
      const dir = tempDir('ranges');
      const out = await downloadToFile(spec(dir));
      assert.ok(out.ready);
      assert.equal(out.file.sha256, sha);
      assert.ok(fs.readFileSync(path.join(dir, 'data.csv')).equals(body));
      assert.ok(!out.resumed);
      // After the failed multi-range try, the last request is a plain GET of the whole file.
      assert.ok(server.seen.length >= 2);
      assert.equal(server.seen.at(-1)!.range, undefined);
      assert.equal(server.seen.at(-1)!.status, 200);
    });
  }

  test('resumes each range where its heartbeat left it, and the hash covers the whole file', async () => {
    const dir = tempDir('ranges');
    const ranges = splitRanges(body.length, 4);
    // Written: half of range 0, none of range 1, all of range 2, a little of range 3; garbage after each.
    const written = [ranges[0]!.start + 700_000, ranges[1]!.start, ranges[2]!.end, ranges[3]!.start + 10_000];
    const part = Buffer.alloc(body.length, 0x58);
    ranges.forEach((r, i) => body.copy(part, r.start, r.start, written[i]));
    fs.writeFileSync(path.join(dir, '.data.csv.part'), part);
    const resume: ResumePoint = {
      offset: written[0]!,
      etag: '"v1"',
      total: body.length,
      ranges: ranges.map((r, i) => ({ ...r, at: written[i]! })),
    };
    const out = await downloadToFile(spec(dir, { resume }));
    assert.ok(out.ready && out.resumed);
    assert.equal(out.file.sha256, sha);
    assert.equal(out.file.rows, 100_000);
    assert.ok(fs.readFileSync(path.join(dir, 'data.csv')).equals(body));
    assert.deepEqual(
      server.seen.map((s) => s.range).sort(),
      [0, 1, 3].map((i) => `bytes=${written[i]}-${ranges[i]!.end - 1}`).sort(),
    );
  });

  test('a resumed range whose validator changed starts the file over on one connection', async () => {
    const dir = tempDir('ranges');
    const ranges = splitRanges(body.length, 4).map((r) => ({ ...r, at: r.start + 1000 }));
    const part = Buffer.alloc(body.length, 0x58);
    fs.writeFileSync(path.join(dir, '.data.csv.part'), part);
    mode.etag = '"v2"'; // the vendor regenerated the file since the heartbeat
    const out = await downloadToFile(spec(dir, { resume: { offset: 1000, etag: '"v1"', total: body.length, ranges } }));
    assert.ok(out.ready && !out.resumed);
    assert.equal(out.file.sha256, sha);
    assert.equal(server.seen.at(-1)!.range, undefined);
  });

  test('an old single-range heartbeat still resumes with one Range request', async () => {
    const dir = tempDir('ranges');
    fs.writeFileSync(path.join(dir, '.data.csv.part'), body.subarray(0, 2 * MiB));
    const out = await downloadToFile(spec(dir, { resume: { offset: 2 * MiB, etag: '"v1"', total: body.length } }));
    assert.ok(out.ready && out.resumed);
    assert.equal(out.file.sha256, sha);
    assert.deepEqual(
      server.seen.map((s) => s.range),
      [`bytes=${2 * MiB}-`],
    );
  });

  test('range helpers: split, gap-free prefix, heartbeat validation', () => {
    const r = splitRanges(10 * MiB + 5, 4);
    assert.deepEqual(
      r.map((x) => [x.start, x.end]),
      [
        [0, 3 * MiB],
        [3 * MiB, 6 * MiB],
        [6 * MiB, 9 * MiB],
        [9 * MiB, 10 * MiB + 5],
      ],
    );
    assert.equal(contiguousEnd(r), 0);
    r[0]!.at = r[0]!.end;
    r[1]!.at = r[1]!.start + 7;
    assert.equal(contiguousEnd(r), 3 * MiB + 7);
    assert.ok(validRanges(r, 10 * MiB + 5));
    assert.ok(!validRanges(r, 10 * MiB));
    assert.ok(!validRanges([{ start: 0, end: 5, at: 6 }], 5));
    assert.ok(!validRanges('nope', 5));
  });
});
