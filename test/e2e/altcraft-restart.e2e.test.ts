import assert from 'node:assert/strict';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ExportClient } from '../../src/client';
import { csvInfo, type Simulator } from '../../src/simulator';
import { runCli, waitFor } from '../helpers/processes';
import { startStack, type TestStack } from '../helpers/stack';

/**
 * The durability promise: kill -9 the worker while the export polls and again while it downloads; a new worker
 * finishes it with a correct file, Altcraft sees exactly one get_all, and the download resumes with Range.
 */
describe('altcraft export survives worker crashes', () => {
  let stack: TestStack;
  let sim: Simulator;
  let env: Record<string, string>;
  let client: ExportClient;
  const newWorker = () => stack.newWorker();

  const ROWS = 150_000;
  before(async () => {
    stack = await startStack('restart', {
      worker: false,
      sim: { altcraft: { taskDurationMs: 5_000, rows: { 'database:42': ROWS }, downloadBytesPerSec: 1_500_000 } },
    });
    ({ sim, env, client } = stack);
  });

  after(() => stack?.stop());

  test('kill -9 while polling and while downloading: the export completes with a byte-identical file', async () => {
    let worker = await newWorker();
    const started = await runCli(['export', 'altcraft', '--source-type', 'database', '--source-id', '42'], env);
    assert.equal(started.code, 0, started.stderr);
    const workflowId = started.stdout.trim();

    // 1. Crash while the workflow waits for Altcraft.
    await waitFor(
      'the export to be polling',
      async () => ((await client.status(workflowId)).progress?.polls ?? 0) >= 2,
    );
    await worker.kill('SIGKILL');
    const pollsAtCrash = sim.count({ vendor: 'altcraft', endpoint: 'status' });
    worker = await newWorker();

    // 2. Crash in the middle of the download (the simulator sends 1.5 MB/s).
    const status = await waitFor(
      'a few MB downloaded',
      async () => {
        const s = await client.status(workflowId);
        return s.progress?.phase === 'downloading' && s.inFlightBytes > 2_000_000 ? s : undefined;
      },
      90_000,
      200,
    );
    await worker.kill('SIGKILL');
    await newWorker();

    const result = await runCli(['result', workflowId, '--json'], env, 180_000);
    assert.equal(result.code, 0, result.stderr);
    const manifest = JSON.parse(result.stdout);
    const task = sim.altcraft.tasks()[0]!;
    const expected = csvInfo(`altcraft:database:42:0`, ROWS);
    assert.equal(manifest.files.length, 1);
    assert.equal(manifest.files[0].bytes, expected.bytes);
    assert.equal(manifest.files[0].sha256, expected.sha256);
    assert.equal(manifest.files[0].rows, ROWS);
    const onDisk = crypto.createHash('sha256').update(fs.readFileSync(manifest.files[0].path)).digest('hex');
    assert.equal(onDisk, expected.sha256, 'the stored file is byte-identical to what Altcraft served');

    assert.equal(sim.count({ vendor: 'altcraft', endpoint: 'get_all' }), 1, 'exactly one get_all across both crashes');
    assert.equal(sim.altcraft.tasks().length, 1);
    assert.equal(manifest.remote.id, task.id);
    assert.equal(manifest.remote.attempts, 1);
    assert.ok(sim.count({ vendor: 'altcraft', endpoint: 'status' }) > pollsAtCrash, 'the new worker kept polling');
    const ranged = sim.requests.filter((r) => r.vendor === 'altcraft' && r.endpoint === 'download' && r.range);
    assert.ok(ranged.length >= 1, 'the retried download asked for a Range');
    const offset = Number(/bytes=(\d+)-/.exec(ranged[0]!.range!)?.[1]);
    assert.ok(offset > 0 && offset <= status.inFlightBytes + 3_000_000, `resumed from byte ${offset}`);
    assert.ok(
      ranged.every((r) => r.status === 206),
      'the simulator answered the Range with 206',
    );
  });
});
