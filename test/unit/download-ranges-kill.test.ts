import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { downloadToFile, type ResumePoint } from '../../src/activities/download/engine';
import { csvBytesOf } from '../../src/simulator';
import { csvSpec } from '../helpers/downloads';
import { startRangeServer } from '../helpers/range-server';
import { childEnv, tempDir, waitFor } from '../helpers/processes';

const MiB = 1024 * 1024;

/**
 * kill -9 during a multi-range download: a child process downloads with 4 ranges from a server that caps each
 * connection, and heartbeats into a file; it is killed twice, each time the next attempt resumes from the last
 * heartbeat (as a retried activity does), and every range continues exactly where that heartbeat left it.
 */
describe('multi-range downloads survive kill -9', () => {
  const body = csvBytesOf('ranges-kill', 100_000); // ~7.5 MB, 4 ranges
  const sha = crypto.createHash('sha256').update(body).digest('hex');
  let server: Awaited<ReturnType<typeof startRangeServer>>;
  // 150 kB/s per connection: each 2 MiB range takes ~14 s, time to see heartbeats on a busy machine.
  before(async () => (server = await startRangeServer(body, { etag: '"v1"', cap: 150_000 })));
  after(() => server.close());

  const lastPoint = (file: string): ResumePoint | undefined => {
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
    return lines.length ? (JSON.parse(lines.at(-1)!) as ResumePoint) : undefined;
  };

  async function runAndKill(dir: string, points: string, resume: ResumePoint | undefined, beyond: number) {
    const args = [
      '--import',
      'tsx',
      path.join(__dirname, '../helpers/range-download-child.ts'),
      server.url,
      dir,
      points,
    ];
    const child = spawn(process.execPath, resume ? [...args, JSON.stringify(resume)] : args, {
      stdio: 'inherit',
      env: childEnv({}),
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // Killed once a heartbeat shows more of the file than `beyond`, with several ranges under way.
      return await waitFor(
        'a multi-range heartbeat',
        () => {
          const p = lastPoint(points);
          const progressed = p?.ranges?.filter((r) => r.at > r.start).length ?? 0;
          const total = p?.ranges?.reduce((sum, r) => sum + r.at - r.start, 0) ?? 0;
          return p && progressed >= 2 && total > beyond && p.ranges!.some((r) => r.at < r.end) ? p : undefined;
        },
        60_000,
        20,
      );
    } catch (err) {
      const seen = fs.existsSync(points) ? fs.readFileSync(points, 'utf8').trim().split('\n') : [];
      throw new Error(`${(err as Error).message}; ${seen.length} heartbeats, last ${seen.at(-1)}`);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }

  test('killed twice mid-way, each range resumes at its heartbeat and the file is byte-identical', async () => {
    const dir = tempDir('ranges-kill');
    const points = path.join(dir, 'points.jsonl');
    const first = await runAndKill(dir, points, undefined, 0);
    const afterFirst = server.seen.length;
    const second = await runAndKill(
      dir,
      points,
      first,
      first.ranges!.reduce((s, r) => s + r.at - r.start, 0),
    );
    const afterSecond = server.seen.length;
    const heartbeat = lastPoint(points)!; // the second run may have heartbeated again before the kill
    assert.ok(heartbeat.ranges);

    const out = await downloadToFile({
      ...csvSpec(server.url, dir, { connections: 4, multiRangeMinBytes: MiB }),
      resume: heartbeat,
    });
    assert.ok(out.ready && out.resumed);
    assert.equal(out.file.sha256, sha);
    assert.equal(out.file.rows, 100_000);
    assert.ok(fs.readFileSync(path.join(dir, 'data.csv')).equals(body), 'byte-identical');

    // Each attempt asked exactly for the unfinished part of each range, from its heartbeat position, with If-Range.
    const asked = (from: number, to: number) =>
      server.seen
        .slice(from, to)
        .map((s) => s.range)
        .sort();
    const expected = (p: ResumePoint) =>
      p
        .ranges!.filter((r) => r.at < r.end)
        .map((r) => `bytes=${r.at}-${r.end - 1}`)
        .sort();
    assert.deepEqual(asked(afterFirst, afterSecond), expected(first));
    assert.deepEqual(asked(afterSecond, server.seen.length), expected(heartbeat));
    assert.ok(server.seen.slice(afterFirst).every((s) => s.status === 206 && s.ifRange === '"v1"'));
    assert.ok(second.offset >= first.offset);
  });
});
