import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ExportClient } from '../../src/client';
import { readConfig } from '../../src/config';
import { startSimulator, type Simulator } from '../../src/simulator';
import { profileDocument } from '../../src/simulator/apsis-profile';
import { historyEvents, spawnCallbackReceiver } from '../helpers/apsis';
import { testEnv } from '../helpers/env';
import { runCli, spawnWorker, waitFor, type WorkerProcess } from '../helpers/processes';
import { freePort, startTestTemporal } from '../helpers/temporal';

/**
 * The callback durability promise: APSIS calls one public URL served by a standalone `exportflow callbacks`
 * process; the worker is killed while the export waits, the code-200 callback arrives while no worker runs
 * (it becomes a signal in Temporal), and a new worker finishes the export without requesting it again.
 */
describe('apsis-profile export survives a worker crash while waiting for the callback', () => {
  let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
  let sim: Simulator;
  let env: Record<string, string>;
  let client: ExportClient;
  let receiver: ReturnType<typeof spawnCallbackReceiver>;
  const workers: WorkerProcess[] = [];

  before(async () => {
    temporal = await startTestTemporal();
    sim = await startSimulator({ apsis: { callbackDelayMs: 6_000 } });
    const base = testEnv(temporal.address, sim, 'apsis-restart');
    const publicPort = await freePort();
    env = { ...base, CALLBACK_PUBLIC_URL: `http://127.0.0.1:${publicPort}` };
    // The standalone receiver listens on the public URL; workers keep their own receivers on random ports.
    receiver = spawnCallbackReceiver({ ...env, CALLBACK_LISTEN: `127.0.0.1:${publicPort}` });
    await receiver.ready;
    client = await ExportClient.connect({}, readConfig(env));
  });

  after(async () => {
    await client?.close();
    for (const w of workers) await w.kill('SIGKILL');
    await receiver?.kill();
    await sim?.close();
    await temporal?.stop();
  });

  async function newWorker(): Promise<WorkerProcess> {
    const worker = spawnWorker(env);
    workers.push(worker);
    await worker.ready;
    return worker;
  }

  test('kill -9 while waiting; the callback lands with no worker running; a new worker completes the export', async () => {
    const first = await newWorker();
    const started = await runCli(['export', 'apsis-profile', '--export-key', 'durable@example.com', '--history'], env);
    assert.equal(started.code, 0, started.stderr);
    const workflowId = started.stdout.trim();

    await waitFor('the code-100 check to reach the standalone receiver', () =>
      sim.apsis.callbacksSent.some((c) => c.body.code === 100 && c.status === 200),
    );
    await waitFor('the workflow to wait for the callback', async () => {
      const s = await client.status(workflowId);
      return s.progress?.vendorStatus === 'waiting for the APSIS callback';
    });
    await first.kill('SIGKILL');
    assert.equal(
      sim.apsis.callbacksSent.some((c) => c.body.code === 200),
      false,
      'killed before the callback came',
    );

    await waitFor(
      'the code-200 callback to be accepted while no worker runs',
      () => sim.apsis.callbacksSent.find((c) => c.body.code === 200 && c.status === 200),
      20_000,
    );
    assert.ok(
      workers.every((w) => w.child.exitCode !== null || w.child.signalCode !== null),
      'no worker was running',
    );
    const signalled = (await historyEvents(client.temporal, workflowId)).filter(
      (e) => e.workflowExecutionSignaledEventAttributes,
    );
    assert.equal(signalled.length, 1, 'Temporal holds the callback as a signal');
    assert.match(receiver.logs(), /APSIS callback delivered/);

    await newWorker();
    const result = await runCli(['result', workflowId, '--json'], env, 120_000);
    assert.equal(result.code, 0, result.stderr);
    const manifest = JSON.parse(result.stdout);
    const [exp] = sim.apsis.profileExports();
    const servedJson = JSON.stringify(profileDocument(exp!));
    const expectedSha = crypto.createHash('sha256').update(servedJson).digest('hex');
    assert.equal(manifest.files[0].sha256, expectedSha);
    assert.equal(fs.readFileSync(manifest.files[0].path, 'utf8'), servedJson);
    assert.equal(manifest.remote.attempts, 1);
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'export-single' }), 1, 'the export was requested once');
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'profile-data' }), 1);
  });
});
