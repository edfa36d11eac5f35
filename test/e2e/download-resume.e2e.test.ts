import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { csvInfo, startSimulator, type Simulator } from '../../src/simulator';
import { testEnv } from '../helpers/env';
import { runCli, spawnWorker, waitFor, type WorkerProcess } from '../helpers/processes';
import { startTestTemporal } from '../helpers/temporal';

const fileSha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/**
 * Downloads survive what happens to real ones: the worker killed with -9 at 30 %, 60 % and 90 % of a large
 * throttled file (each retry continues with Range), a server without Range support (the retry starts clean),
 * and bodies cut short or sent with a wrong Content-Length (retried until whole). Every file ends byte-identical.
 */
describe('downloads resume and verify through worker crashes and broken bodies', () => {
  let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
  let sim: Simulator;
  let env: Record<string, string>;
  const workers: WorkerProcess[] = [];
  // ~15 MB and ~6 MB, throttled to at most 1.5 MB/s (less on a busy 2-core machine): seconds to kill in.
  const BIG = 200_000;
  const MEDIUM = 80_000;

  before(async () => {
    temporal = await startTestTemporal();
    sim = await startSimulator({
      altcraft: {
        taskDurationMs: 300,
        rows: { 'database:11': BIG, 'database:12': MEDIUM, 'database:13': 40_000, 'database:14': 40_000 },
      },
    });
    env = testEnv(temporal.address, sim, 'resume');
  });

  after(async () => {
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

  async function startExport(sourceId: number): Promise<string> {
    const started = await runCli(
      ['export', 'altcraft', '--source-type', 'database', '--source-id', String(sourceId)],
      env,
    );
    assert.equal(started.code, 0, started.stderr);
    return started.stdout.trim();
  }

  /** Size of the `.part` file the running attempt writes (0 while there is none). */
  function partSize(workflowId: string, sourceId: number): number {
    const part = path.join(env.EXPORT_DIR!, workflowId, `.${sourceId}_database_export.csv.part`);
    try {
      return fs.statSync(part).size;
    } catch {
      return 0;
    }
  }

  async function resultOf(workflowId: string) {
    const result = await runCli(['result', workflowId, '--json'], env, 180_000);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout);
  }

  const downloads = (since: number) =>
    sim.requests.slice(since).filter((r) => r.vendor === 'altcraft' && r.endpoint === 'download');

  test('kill -9 at 30 %, 60 % and 90 %: every retry resumes with Range and the file is byte-identical', async () => {
    // Each answer keeps the rate it started with. 1.5 MB/s leaves ~3 s between 30 % and 60 %; the attempt that
    // is killed at 90 % gets 0.5 MB/s, so the last 10 % also take ~3 s: a starved test process still sees each
    // mark before the file completes.
    sim.altcraft.config.downloadBytesPerSec = 1_500_000;
    const since = sim.requests.length;
    const expected = csvInfo('altcraft:database:11:0', BIG);
    let worker = await newWorker();
    const workflowId = await startExport(11);
    const killedAt: number[] = [];
    for (const fraction of [0.3, 0.6, 0.9]) {
      // The next worker starts while this attempt downloads: on a loaded machine a start takes seconds, and
      // waiting for it first could let the file complete before the mark. The retry waits for it if need be.
      const standby = spawnWorker(env);
      workers.push(standby);
      const size = await waitFor(
        `${fraction * 100} % on disk`,
        () => {
          if (fs.existsSync(path.join(env.EXPORT_DIR!, workflowId, '11_database_export.csv'))) {
            throw new Error(`the file completed before the kill at ${fraction * 100} %`);
          }
          const s = partSize(workflowId, 11);
          return s >= fraction * expected.bytes ? s : undefined;
        },
        180_000,
        20,
      );
      await worker.kill('SIGKILL');
      killedAt.push(size);
      if (fraction === 0.6) sim.altcraft.config.downloadBytesPerSec = 500_000;
      worker = standby;
      await standby.ready;
    }

    const manifest = await resultOf(workflowId);
    sim.altcraft.config.downloadBytesPerSec = undefined;
    const file = manifest.files[0];
    assert.equal(file.sha256, expected.sha256);
    assert.equal(file.bytes, expected.bytes);
    assert.equal(file.rows, BIG);
    assert.equal(fileSha(file.path), expected.sha256, 'the stored file is byte-identical to what was served');

    const ranged = downloads(since).filter((r) => r.range);
    const offsets = ranged.map((r) => Number(/bytes=(\d+)-/.exec(r.range!)?.[1]));
    assert.ok(ranged.length >= 3, `one Range request after each kill (saw ${ranged.length})`);
    assert.ok(
      ranged.every((r) => r.status === 206),
      'the server answered every Range with 206',
    );
    for (const [i, offset] of offsets.slice(0, 3).entries()) {
      assert.ok(offset > 0 && offset <= killedAt[i]!, `retry ${i + 1} resumed at ${offset}, killed at ${killedAt[i]}`);
      if (i > 0) assert.ok(offset > offsets[i - 1]!, 'each retry starts further on');
    }
    assert.equal(sim.served().filter((s) => s.path.includes('/11_database')).length, 0, 'never sent whole again');
  });

  test('a server without Range support: after kill -9 the retry starts clean and the file is byte-identical', async () => {
    sim.altcraft.config.downloadBytesPerSec = 1_000_000; // the second half takes ~3 s: time to see half and kill
    sim.altcraft.config.supportRange = false;
    try {
      const since = sim.requests.length;
      const expected = csvInfo('altcraft:database:12:0', MEDIUM);
      // Exactly one live worker runs this download (whatever the test before left running).
      for (const w of workers) await w.kill('SIGKILL');
      const worker = await newWorker();
      const workflowId = await startExport(12);
      await waitFor('half the file on disk', () => partSize(workflowId, 12) >= expected.bytes / 2, 90_000, 20);
      await worker.kill('SIGKILL');
      await newWorker();
      const manifest = await resultOf(workflowId);
      assert.equal(manifest.files[0].sha256, expected.sha256);
      assert.equal(fileSha(manifest.files[0].path), expected.sha256);
      const requests = downloads(since);
      assert.ok(requests.length >= 2);
      const retry = requests.at(-1)!;
      assert.ok(retry.range, 'the retry asked to resume');
      assert.equal(retry.status, 200, 'the server sent the whole file instead, and the engine took it from byte 0');
    } finally {
      sim.altcraft.config.supportRange = true;
      sim.altcraft.config.downloadBytesPerSec = undefined;
    }
  });

  for (const fault of [
    { name: 'a body cut short', rule: { kind: 'truncate', afterBytes: 1_000_000 } as const, sourceId: 13 },
    { name: 'a wrong Content-Length', rule: { kind: 'wrongLength', delta: 4096 } as const, sourceId: 14 },
  ]) {
    test(`${fault.name} is retried until the file is whole`, async () => {
      const since = sim.requests.length;
      sim.faults.add({ vendor: 'altcraft', endpoint: 'download', ...fault.rule });
      const expected = csvInfo(`altcraft:database:${fault.sourceId}:0`, 40_000);
      const workflowId = await startExport(fault.sourceId);
      const manifest = await resultOf(workflowId);
      assert.equal(manifest.files[0].sha256, expected.sha256);
      assert.equal(manifest.files[0].rows, 40_000);
      assert.equal(fileSha(manifest.files[0].path), expected.sha256);
      assert.ok(downloads(since).length >= 2, 'the broken answer was followed by another download request');
    });
  }
});
