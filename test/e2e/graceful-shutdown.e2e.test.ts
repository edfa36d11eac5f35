import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { ExportClient } from '../../src/client';
import { csvInfo, type Simulator } from '../../src/simulator';
import { runCli, waitFor, type WorkerProcess } from '../helpers/processes';
import { startStack, type TestStack } from '../helpers/stack';

/** SIGTERM like `docker stop` / Kubernetes; resolves with the exit code and how long the stop took. */
function sigterm(worker: WorkerProcess): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    worker.child.once('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - t0 }));
    worker.child.kill('SIGTERM');
  });
}

/**
 * A rolling deploy: SIGTERM to a worker in the middle of its work, a new worker beside it. Our own shutdown must
 * never cut an Altcraft create call (no idempotency key: a cut call retried elsewhere leaves a second job), and a
 * download it stops must resume on the next worker where it stopped.
 */
describe('graceful shutdown on SIGTERM', () => {
  let stack: TestStack;
  let sim: Simulator;
  let env: Record<string, string>;
  let client: ExportClient;
  const CREATE_ANSWER_MS = 6_000;

  before(async () => {
    stack = await startStack('shutdown', {
      worker: false,
      env: { EXPORTFLOW_SHUTDOWN_GRACE: '40s', EXPORTFLOW_DOWNLOAD_CONNECTIONS: '1' },
      sim: { altcraft: { taskDurationMs: 1_000, rows: { 'database:42': 150_000 }, downloadBytesPerSec: 1_500_000 } },
    });
    ({ sim, env, client } = stack);
  });

  after(() => stack?.stop());

  test('SIGTERM during a create call: the call finishes, exit 0, one vendor job, the next worker completes', async () => {
    sim.altcraft.config.createAnswerDelayMs = CREATE_ANSWER_MS;
    const first = await stack.newWorker();
    const started = await runCli(['export', 'altcraft', '--source-type', 'database', '--source-id', '7'], env);
    assert.equal(started.code, 0, started.stderr);
    const workflowId = started.stdout.trim();

    const call = await waitFor(
      'the get_all call to be in flight',
      () => sim.requests.find((r) => r.vendor === 'altcraft' && r.endpoint === 'get_all' && r.endedAt === undefined),
      60_000,
      50,
    );
    const stopping = sigterm(first);
    // Rolling: the replacement starts while the old worker drains.
    await stack.newWorker();
    const stopped = await stopping;
    sim.altcraft.config.createAnswerDelayMs = undefined;

    assert.equal(
      stopped.code,
      0,
      `the stopped worker exits 0 (signal ${stopped.signal}):\n${first.logs().slice(-3000)}`,
    );
    assert.equal(call.status, 200, 'the create call got its answer: the worker waited for it');
    assert.ok(call.endedAt! <= call.at + CREATE_ANSWER_MS + 2_000, 'the answer was read, not abandoned');
    assert.ok(stopped.ms < 30_000, `the stop took ${stopped.ms} ms, within the grace`);

    const result = await runCli(['result', workflowId, '--json'], env, 120_000);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).remote.attempts, 1);
    assert.equal(sim.count({ vendor: 'altcraft', endpoint: 'get_all' }), 1, 'exactly one create call reached Altcraft');
    assert.equal(sim.altcraft.tasks().length, 1, 'exactly one vendor job');
    for (const w of stack.workers) await w.kill('SIGKILL');
  });

  test('SIGTERM during a download: the worker stops at once, the next one resumes with Range; file intact', async () => {
    const before = sim.altcraft.tasks().length;
    const first = await stack.newWorker();
    const started = await runCli(['export', 'altcraft', '--source-type', 'database', '--source-id', '42'], env);
    assert.equal(started.code, 0, started.stderr);
    const workflowId = started.stdout.trim();

    const status = await waitFor(
      'a few MB downloaded',
      async () => {
        const s = await client.status(workflowId);
        return s.progress?.phase === 'downloading' && s.inFlightBytes > 2_000_000 ? s : undefined;
      },
      90_000,
      200,
    );
    const stopped = await sigterm(first);
    assert.equal(stopped.code, 0, `exit 0 (signal ${stopped.signal}):\n${first.logs().slice(-3000)}`);
    // The download does not wait out the 40 s grace: it saves its point and stops.
    assert.ok(stopped.ms < 15_000, `the stop took ${stopped.ms} ms`);
    assert.match(first.logs(), /"type":"WorkerShutdown"/, 'the download stopped for the shutdown');
    await stack.newWorker();

    const result = await runCli(['result', workflowId, '--json'], env, 180_000);
    assert.equal(result.code, 0, result.stderr);
    const manifest = JSON.parse(result.stdout);
    const expected = csvInfo('altcraft:database:42:0', 150_000);
    assert.equal(manifest.files[0].bytes, expected.bytes);
    assert.equal(manifest.files[0].sha256, expected.sha256);
    const onDisk = crypto.createHash('sha256').update(fs.readFileSync(manifest.files[0].path)).digest('hex');
    assert.equal(onDisk, expected.sha256, 'the stored file is byte-identical to what Altcraft served');
    assert.equal(sim.altcraft.tasks().length, before + 1, 'one vendor job for this export');

    const ranged = sim.requests.filter((r) => r.vendor === 'altcraft' && r.endpoint === 'download' && r.range);
    assert.equal(ranged.length, 1, 'one resumed request');
    const offset = Number(/bytes=(\d+)-/.exec(ranged[0]!.range!)?.[1]);
    assert.ok(
      offset >= status.inFlightBytes,
      `resumed at byte ${offset}, at or past the ${status.inFlightBytes} seen before SIGTERM`,
    );
  });
});
