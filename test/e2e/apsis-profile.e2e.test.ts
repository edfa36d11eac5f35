import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { callbackToken } from '../../src/providers/apsis/callback-url';
import { ExportClient } from '../../src/client';
import { callbackSecret, readConfig } from '../../src/config';
import { startSimulator, type FaultAction, type Simulator } from '../../src/simulator';
import { APSIS_DEFAULTS } from '../../src/simulator/apsis';
import { profileDocument } from '../../src/simulator/apsis-profile';
import {
  SIM_ACCESS_TOKEN,
  historyEvents,
  historyText,
  startDelayProxy,
  startSpyServer,
  type RecordingServer,
} from '../helpers/apsis';
import { testEnv } from '../helpers/env';
import { runCli, spawnWorker, type CliResult, type WorkerProcess } from '../helpers/processes';
import { startTestTemporal } from '../helpers/temporal';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * APSIS One single-profile export end to end: the worker requests the export with its own callback URL, the
 * simulator calls the worker's callback receiver (code 100, then 200 with the data URL), the receiver signals
 * the workflow, and the worker stores the JSON. APSIS traffic passes a proxy that can hold back an answer.
 */
describe('apsis-profile export end to end', () => {
  let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
  let sim: Simulator;
  let proxy: Awaited<ReturnType<typeof startDelayProxy>>;
  let spy: RecordingServer;
  let env: Record<string, string>;
  let worker: WorkerProcess;
  let client: ExportClient;
  const outputs: string[] = [];

  const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');
  async function run(cliArgs: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
    const res = await runCli(cliArgs, { ...env, ...extraEnv }, 150_000);
    outputs.push(res.stdout, res.stderr);
    return res;
  }
  async function completed(cliArgs: string[]) {
    const res = await run([...cliArgs, '--wait', '--json']);
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout);
  }
  const signals = async (workflowId: string) =>
    (await historyEvents(client.temporal, workflowId)).filter((e) => e.workflowExecutionSignaledEventAttributes);
  const codes = () =>
    sim.apsis.callbacksSent.map((c) => `${c.body.code}:${c.status ?? c.error}${c.forged ? ':forged' : ''}`);

  before(async () => {
    temporal = await startTestTemporal();
    sim = await startSimulator({ apsis: { callbackDelayMs: 300 } });
    proxy = await startDelayProxy(sim.url);
    spy = await startSpyServer();
    env = { ...testEnv(temporal.address, sim, 'apsis-prof'), APSIS_BASE_URL: proxy.url };
    worker = spawnWorker(env);
    await worker.ready;
    client = await ExportClient.connect({}, readConfig(env));
  });

  after(async () => {
    await client?.close();
    await worker?.kill('SIGTERM');
    await proxy?.close();
    await spy?.close();
    await sim?.close();
    await temporal?.stop();
  });

  beforeEach(() => {
    sim.reset();
    Object.assign(sim.apsis.config, { ...APSIS_DEFAULTS, callbackDelayMs: 300, profileDataHost: undefined });
    proxy.setDelay(() => 0);
    spy.requests.length = 0;
  });

  test('given --history --type-definitions --merged, the callback flow stores the served JSON byte for byte', async () => {
    const key = 'user/42@example.com';
    const manifest = await completed([
      'export',
      'apsis-profile',
      '--export-key',
      key,
      '--history',
      '--type-definitions',
      '--merged',
    ]);
    assert.equal(manifest.provider, 'apsis-profile');
    assert.equal(manifest.remote.attempts, 1);
    const [exp] = sim.apsis.profileExports();
    assert.equal(exp!.exportKey, key, 'the key was URL-encoded on the way and decoded by APSIS');
    assert.deepEqual(
      [exp!.includeAttributeHistory, exp!.includeTypeDefinitions, exp!.includeMergedProfiles, exp!.section],
      [true, true, true, undefined],
    );
    assert.equal(manifest.remote.id, exp!.id);
    const servedJson = JSON.stringify(profileDocument(exp!));
    const [file] = manifest.files;
    assert.equal(file.name, 'profile.json');
    assert.equal(file.sha256, sha256(servedJson));
    assert.equal(file.bytes, Buffer.byteLength(servedJson));
    assert.equal(file.rows, null);
    assert.equal(file.contentType, 'application/json');
    const onDisk = fs.readFileSync(file.path, 'utf8');
    assert.equal(onDisk, servedJson);
    const doc = JSON.parse(onDisk);
    assert.deepEqual(Object.keys(doc.profiles), [key, `${key}~merged-1`]);
    assert.ok(doc.metadata.sections);
    assert.deepEqual(fs.readdirSync(path.dirname(file.path)), ['profile.json'], 'no temporary file left');
    // The callback URL was this export's own, on the worker's receiver, and both callbacks got 2xx.
    const secret = callbackSecret(readConfig(env));
    assert.match(exp!.callbackUrl, /^http:\/\/127\.0\.0\.1:\d+\/apsis\/callback\//);
    assert.ok(
      exp!.callbackUrl.endsWith(
        `/${encodeURIComponent(manifest.workflowId)}/${callbackToken(secret, manifest.workflowId)}`,
      ),
    );
    assert.deepEqual(codes(), ['100:200', '200:200']);
    assert.equal((await signals(manifest.workflowId)).length, 1, 'code 100 reached no workflow');
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'profile-data' }), 1);
  });

  test('given --section and no flags, the request says so and the file has that section only', async () => {
    const manifest = await completed([
      'export',
      'apsis-profile',
      '--export-key',
      'k-7',
      '--section',
      'com.example.sec',
    ]);
    const [exp] = sim.apsis.profileExports();
    assert.deepEqual(
      [exp!.section, exp!.includeAttributeHistory, exp!.includeTypeDefinitions, exp!.includeMergedProfiles],
      ['com.example.sec', false, false, false],
    );
    const doc = JSON.parse(fs.readFileSync(manifest.files[0].path, 'utf8'));
    assert.deepEqual(Object.keys(doc.profiles['k-7'].sections), ['com.example.sec']);
    assert.equal(doc.metadata, undefined);
    assert.equal(manifest.files[0].sha256, sha256(JSON.stringify(profileDocument(exp!))));
  });

  test('given a callback that arrives before the request activity has even returned, it is not lost', async () => {
    sim.apsis.config.callbackDelayMs = 0;
    // Hold APSIS's 202 back for 2 s: both callbacks reach the receiver while the activity still waits for it.
    proxy.setDelay((method, p) => (method === 'POST' && p.includes('/export-single/') ? 2000 : 0));
    const manifest = await completed(['export', 'apsis-profile', '--export-key', 'early-bird']);
    const events = await historyEvents(client.temporal, manifest.workflowId);
    const signalled = events.find((e) => e.workflowExecutionSignaledEventAttributes);
    const requestDone = events.find((e) => e.activityTaskCompletedEventAttributes);
    assert.ok(signalled && requestDone);
    assert.ok(Number(signalled.eventId) < Number(requestDone.eventId), 'the signal came before the request completed');
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'export-single' }), 1);
    assert.equal(manifest.files[0].sha256, sha256(JSON.stringify(profileDocument(sim.apsis.profileExports()[0]!))));
  });

  test('given a duplicate code-200 callback, both get 2xx and the data is fetched and stored once', async () => {
    sim.apsis.config.duplicateCallback = true;
    const manifest = await completed(['export', 'apsis-profile', '--export-key', 'twice']);
    await waitForCallbacks(3);
    assert.deepEqual(codes(), ['100:200', '200:200', '200:200']);
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'profile-data' }), 1);
    assert.equal(manifest.files.length, 1);
    assert.equal(manifest.remote.attempts, 1);
  });

  test('given a forged callback first, it is rejected without reaching the workflow and the real one completes', async () => {
    sim.apsis.config.forgedCallbackFirst = true;
    const manifest = await completed(['export', 'apsis-profile', '--export-key', 'forge-me']);
    assert.deepEqual(codes(), ['100:200', '200:401:forged', '200:200']);
    assert.equal((await signals(manifest.workflowId)).length, 1, 'only the real callback became a signal');
    assert.equal(manifest.files[0].sha256, sha256(JSON.stringify(profileDocument(sim.apsis.profileExports()[0]!))));
  });

  test('given a data URL on a foreign host, the receiver refuses it: nothing is sent there, no workflow hears it', async () => {
    sim.apsis.config.profileDataHost = spy.url;
    const res = await run(['export', 'apsis-profile', '--export-key', 'victim']);
    assert.equal(res.code, 0, res.stderr);
    const workflowId = res.stdout.trim();
    await waitForCallbacks(4);
    assert.deepEqual(codes(), ['100:200', '200:400', '200:400', '200:400'], 'every try of the forged data URL got 400');
    assert.equal((await signals(workflowId)).length, 0, 'no signal reached the workflow');
    assert.deepEqual(spy.requests, [], 'no request (so no Authorization header) reached the foreign host');
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'profile-data' }), 0);
    assert.equal((await run(['cancel', workflowId])).code, 0);
  });

  test('given profile data that is an HTML page or JSON of another shape, the export fails and keeps no file', async () => {
    const cases: [FaultAction, RegExp][] = [
      [{ kind: 'html', status: 200 }, /Content-Type "text\/html; charset=utf-8" instead of JSON/],
      [{ kind: 'json', body: { error: 'oops' } }, /not a profile export: profiles: /],
    ];
    for (const [fault, message] of cases) {
      sim.faults.add({ vendor: 'apsis', endpoint: 'profile-data', ...fault });
      const res = await run(['export', 'apsis-profile', '--export-key', 'odd', '--wait', '--json']);
      assert.equal(res.code, 1, res.stderr);
      const out = JSON.parse(res.stdout);
      assert.equal(out.error.type, FAILURE_TYPES.response);
      assert.match(out.error.message, message);
      const workflowId = /export (\S+) failed/.exec(res.stderr)?.[1];
      assert.ok(workflowId, res.stderr);
      assert.equal(fs.existsSync(path.join(env.EXPORT_DIR!, workflowId)), false, 'nothing left on disk');
    }
  });

  test('given a failure code in the callback, the export fails with APSIS words', async () => {
    sim.apsis.config.callbackFailure = { code: 500, message: 'Export could not be generated' };
    const res = await run(['export', 'apsis-profile', '--export-key', 'broken', '--wait', '--json']);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.error.type, FAILURE_TYPES.jobFailed);
    assert.match(out.error.message, /code 500 .*Export could not be generated/);
    sim.apsis.config.callbackFailure = undefined;
  });

  test('given gone profile data (410), the export is requested again and completes with attempts 2', async () => {
    sim.faults.add({ vendor: 'apsis', endpoint: 'profile-data', kind: 'status', status: 410 });
    const manifest = await completed(['export', 'apsis-profile', '--export-key', 'again']);
    assert.equal(manifest.remote.attempts, 2);
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'export-single' }), 2);
    assert.equal(manifest.remote.id, sim.apsis.profileExports()[1]!.id);
  });

  test('given bad input, the CLI exits 2 naming the flag and starts nothing', async () => {
    const queue = `TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"`;
    const before = (await client.temporal.workflow.count(queue)).count;
    const cases: [string[], RegExp][] = [
      [['export', 'apsis-profile'], /--export-key: required/],
      [['export', 'apsis-profile', '--export-key', ''], /--export-key: must not be empty/],
      [['export', 'apsis-profile', '--export-key', '   '], /--export-key: must not be empty/],
      [['export', 'apsis-profile', '--export-key', 'k', '--section', ''], /--section: expected a non-empty section/],
    ];
    for (const [cliArgs, message] of cases) {
      const res = await run(cliArgs);
      assert.equal(res.code, 2, `${cliArgs.join(' ')} -> ${res.code}: ${res.stderr}`);
      assert.match(res.stderr, message, cliArgs.join(' '));
    }
    assert.equal((await client.temporal.workflow.count(queue)).count, before);
    assert.equal(sim.count({ vendor: 'apsis' }), 0);
  });

  test('no callback token, callback secret, access token or client secret in histories, logs or output', async () => {
    const secrets = [callbackSecret(readConfig(env)), sim.credentials.apsisClientSecret];
    let histories = 0;
    for await (const wf of client.temporal.workflow.list({ query: `TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"` })) {
      const text = await historyText(client.temporal, wf.workflowId, wf.runId);
      assert.ok(text.includes('\\"exportKey\\":'), 'payloads were decoded');
      for (const secret of [...secrets, callbackToken(secrets[0]!, wf.workflowId)]) {
        assert.equal(text.includes(secret), false, `a secret is in the history of ${wf.workflowId}`);
      }
      assert.doesNotMatch(text, SIM_ACCESS_TOKEN);
      histories++;
    }
    assert.ok(histories >= 9, `checked ${histories} histories`);
    for (const text of [worker.logs(), outputs.join('\n')]) {
      for (const secret of secrets) assert.equal(text.includes(secret), false, 'a secret in logs or output');
      assert.doesNotMatch(text, SIM_ACCESS_TOKEN);
      assert.doesNotMatch(text, /\/apsis\/callback\/[^/\s"]+\/[A-Za-z0-9_-]{20,}/, 'a callback URL with its token');
    }
  });

  async function waitForCallbacks(n: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (sim.apsis.callbacksSent.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }
});
