import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/client';
import { ExportClient, type ExportManifest } from '../../src/client';
import { readConfig } from '../../src/config';
import { csvBytesOf, csvRows, startSimulator, type Simulator } from '../../src/simulator';
import { gzipInfo, type GzipInfo } from '../../src/simulator/gzip';
import { testEnv } from '../helpers/env';
import { runCli, spawnWorker, waitFor, type WorkerProcess } from '../helpers/processes';
import { startTestTemporal } from '../helpers/temporal';

/**
 * The durability promise for multi-file exports: kill -9 the worker while the second of three gzip files is
 * downloading (all three stream in parallel); a new worker finishes every file byte for byte, resuming with
 * Range, and myTracker sees exactly one create.json.
 */
describe('mytracker export survives a worker crash mid-download', () => {
  let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
  let sim: Simulator;
  let env: Record<string, string>;
  let client: ExportClient;
  const workers: WorkerProcess[] = [];
  const SEGMENT = 31;
  const ROWS = 50_000; // about 1.4 MB of gzip per file, about 5 s each at the throttled speed
  const seeds = [0, 1, 2].map((k) => `mytracker:${SEGMENT}:${k}`);
  let expected: GzipInfo[];

  before(async () => {
    temporal = await startTestTemporal();
    sim = await startSimulator({
      mytracker: { exportDurationMs: 1000, files: 3, rowsPerFile: ROWS, downloadBytesPerSec: 250_000 },
    });
    env = testEnv(temporal.address, sim, 'mtrestart');
    client = await ExportClient.connect({}, readConfig(env));
    expected = await Promise.all(
      // The header line is in the first file only, as real exports (and the simulator by default) have it.
      seeds.map((seed, k) => gzipInfo(`expected|${seed}|${k}`, () => csvRows(seed, ROWS, { header: k === 0 }))),
    );
  });

  after(async () => {
    await client?.close();
    for (const w of workers) await w.kill('SIGKILL');
    await sim?.close();
    await temporal?.stop();
  });

  async function newWorker(): Promise<WorkerProcess> {
    const worker = spawnWorker(env);
    workers.push(worker);
    await worker.ready;
    return worker;
  }

  /** Bytes of one file acknowledged by its download activity's heartbeat (files told apart by their size). */
  async function heartbeatedOffset(workflowId: string, fileBytes: number): Promise<number> {
    const description = await client.temporal.workflow.getHandle(workflowId).describe();
    for (const activity of description.raw.pendingActivities ?? []) {
      const payload = activity.heartbeatDetails?.payloads?.[0];
      if (!payload) continue;
      const point = defaultPayloadConverter.fromPayload<{ offset?: number; total?: number }>(payload);
      if (point?.total === fileBytes) return point.offset ?? 0;
    }
    return 0;
  }

  test('kill -9 while the second file downloads: all three files complete, byte-identical, one export', async () => {
    assert.equal(new Set(expected.map((e) => e.bytes)).size, 3, 'the three files differ in size');
    let worker = await newWorker();
    const started = await runCli(['export', 'mytracker', '--segment', String(SEGMENT)], env);
    assert.equal(started.code, 0, started.stderr);
    const workflowId = started.stdout.trim();

    const second = expected[1]!;
    const offsetAtKill = await waitFor(
      'the second file part way down',
      async () => {
        const offset = await heartbeatedOffset(workflowId, second.bytes);
        return offset > 200_000 && offset < second.bytes ? offset : undefined;
      },
      90_000,
      200,
    );
    await worker.kill('SIGKILL');
    const secondPath = sim.requests.find(
      (r) => r.endpoint === 'download' && /\.2\.[0-9a-f]+\.csv\.gz$/.test(r.path),
    )!.path;
    assert.equal(
      sim.served().some((f) => f.path === secondPath),
      false,
      'the second file had not been served whole when the worker died',
    );
    worker = await newWorker();

    const result = await runCli(['result', workflowId, '--json'], env, 180_000);
    assert.equal(result.code, 0, result.stderr);
    const manifest = JSON.parse(result.stdout) as ExportManifest;
    assert.equal(manifest.files.length, 3);
    for (const [k, file] of manifest.files.entries()) {
      const stored = fs.readFileSync(file.path);
      const sha = crypto.createHash('sha256').update(stored).digest('hex');
      assert.equal(sha, expected[k]!.sha256, `file ${k + 1} is byte-identical to what myTracker serves`);
      assert.equal(file.sha256, sha);
      assert.equal(file.bytes, expected[k]!.bytes);
      assert.ok(
        zlib.gunzipSync(stored).equals(csvBytesOf(seeds[k]!, ROWS, { header: k === 0 })),
        `file ${k + 1} decompresses to its data`,
      );
      assert.equal(file.rows, ROWS);
      assert.equal(file.encoding, 'gzip');
    }
    assert.equal(manifest.totalRows, 3 * ROWS);
    assert.deepEqual(
      fs.readdirSync(path.join(env.EXPORT_DIR!, workflowId)).sort(),
      manifest.files.map((f) => f.name).sort(),
      'no .part files left',
    );

    assert.equal(sim.count({ vendor: 'mytracker', endpoint: 'create' }), 1, 'exactly one create.json across the crash');
    assert.equal(manifest.remote.attempts, 1);
    const resumed = sim.requests.filter((r) => r.path === secondPath && r.range);
    assert.ok(resumed.length >= 1, 'the second file was resumed with a Range request');
    assert.ok(
      resumed.every((r) => r.storageHost && !r.hadAuthorization),
      'resumed on the storage host, without credentials',
    );
    const from = Number(/bytes=(\d+)-/.exec(resumed[0]!.range!)?.[1]);
    assert.ok(
      from > 0 && from <= offsetAtKill + 1_000_000,
      `resumed from byte ${from} (heartbeat said ${offsetAtKill})`,
    );
    assert.equal(resumed[0]!.status, 206);
    console.log(`crash: second file killed at ${offsetAtKill}/${second.bytes} bytes, resumed from ${from}`);
  });
});
