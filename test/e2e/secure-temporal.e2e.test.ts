import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ExportClient } from '../../src/client';
import { readConfig } from '../../src/config';
import { startSimulator, type Simulator } from '../../src/simulator';
import { historyEvents, spawnCallbackReceiver } from '../helpers/apsis';
import { testEnv } from '../helpers/env';
import { runCli, spawnWorker, type WorkerProcess } from '../helpers/processes';
import { startTestTemporal } from '../helpers/temporal';
import { makeTestPki, type TestPki } from '../helpers/tls-certs';
import { startTlsFront, type TlsFront } from '../helpers/tls-front';

const API_KEY = 'exportflow-test-key.abc123';

/**
 * exportflow against a secured Temporal: the dev server sits behind a real TLS front (mutual TLS with a per-run CA,
 * and a second front that wants `authorization: Bearer <key>` like Temporal Cloud). Everything goes through the
 * fronts; bad credentials fail with a message that says which, and start nothing.
 */
describe('a secured Temporal frontend (mTLS, API key)', () => {
  let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
  let sim: Simulator;
  let pki: TestPki;
  let mtls: TlsFront;
  let keyed: TlsFront;
  let base: Record<string, string>;
  let mtlsEnv: Record<string, string>;
  let keyEnv: Record<string, string>;
  /** Straight to the dev server, to inspect what the secured processes did. */
  let inspector: ExportClient;
  let worker: WorkerProcess;

  before(async () => {
    pki = makeTestPki();
    temporal = await startTestTemporal();
    sim = await startSimulator({ altcraft: { taskDurationMs: 200 }, apsis: { callbackDelayMs: 300 } });
    mtls = await startTlsFront({
      upstream: temporal.address,
      cert: pki.serverCert,
      key: pki.serverKey,
      clientCa: pki.caCert,
    });
    keyed = await startTlsFront({
      upstream: temporal.address,
      cert: pki.serverCert,
      key: pki.serverKey,
      apiKey: API_KEY,
    });
    base = testEnv(temporal.address, sim, 'secure');
    mtlsEnv = {
      ...base,
      TEMPORAL_ADDRESS: mtls.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
    };
    keyEnv = {
      ...base,
      TEMPORAL_ADDRESS: keyed.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_API_KEY: API_KEY,
    };
    inspector = await ExportClient.connect({}, readConfig(base));
    worker = spawnWorker(mtlsEnv);
    await worker.ready;
  });

  after(async () => {
    await inspector?.close();
    await worker?.kill('SIGKILL');
    await mtls?.close();
    await keyed?.close();
    await sim?.close();
    await temporal?.stop();
  });

  test('mTLS: export, status, list and schedules work through the front', async () => {
    const before = mtls.stats.forwarded;
    const done = await runCli(
      ['export', 'altcraft', '--source-type', 'database', '--source-id', '3', '--wait', '--json'],
      mtlsEnv,
    );
    assert.equal(done.code, 0, done.stderr);
    const manifest = JSON.parse(done.stdout);
    assert.equal(manifest.status, 'completed');
    const status = await runCli(['status', manifest.workflowId, '--json'], mtlsEnv);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).execution, 'COMPLETED');
    const list = await runCli(['list', '--json', '--limit', '50'], mtlsEnv);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(JSON.parse(list.stdout).some((r: { workflowId: string }) => r.workflowId === manifest.workflowId));

    const created = await runCli(
      [
        'schedule',
        'create',
        'secure-nightly',
        '--cron',
        '0 3 * * *',
        '--paused',
        '--',
        ...'export altcraft --source-type segment --source-id 7'.split(' '),
      ],
      mtlsEnv,
    );
    assert.equal(created.code, 0, created.stderr);
    const schedules = await runCli(['schedule', 'list', '--json'], mtlsEnv);
    assert.equal(schedules.code, 0, schedules.stderr);
    assert.ok(JSON.parse(schedules.stdout).some((s: { scheduleId: string }) => s.scheduleId === 'secure-nightly'));
    assert.equal((await runCli(['schedule', 'delete', 'secure-nightly'], mtlsEnv)).code, 0);
    assert.ok(
      mtls.stats.forwarded > before + 5,
      `calls went through the mTLS front (${mtls.stats.forwarded - before})`,
    );
  });

  test('mTLS: the APSIS callback receiver signals the workflow through the front', async () => {
    const done = await runCli(
      ['export', 'apsis-profile', '--export-key', 'secure@example.com', '--wait', '--json'],
      mtlsEnv,
    );
    assert.equal(done.code, 0, done.stderr);
    const manifest = JSON.parse(done.stdout);
    const signals = (await historyEvents(inspector.temporal, manifest.workflowId)).filter(
      (e) => e.workflowExecutionSignaledEventAttributes,
    );
    assert.ok(signals.length >= 1, 'the callback arrived as a signal');
    assert.match(worker.logs(), /APSIS callback delivered/);
  });

  test('mTLS: `exportflow callbacks` starts with a client certificate and refuses to start without one', async () => {
    const good = spawnCallbackReceiver({ ...mtlsEnv, CALLBACK_LISTEN: '127.0.0.1:0' });
    await good.ready;
    await good.kill();
    const bad = spawnCallbackReceiver({
      ...mtlsEnv,
      CALLBACK_LISTEN: '127.0.0.1:0',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '',
    });
    await assert.rejects(bad.ready, /exited with 1[\s\S]*requires a client certificate/);
    assert.doesNotMatch(bad.logs(), /listening/);
  });

  const refusals: [string, () => Record<string, string>, number, RegExp][] = [
    [
      'no client certificate',
      () => ({ ...mtlsEnv, TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '', TEMPORAL_TLS: 'true' }),
      1,
      /refused the TLS handshake: it requires a client certificate/,
    ],
    [
      'a client certificate from another CA',
      () => ({
        ...mtlsEnv,
        TEMPORAL_TLS_CLIENT_CERT_PATH: pki.rogueClientCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: pki.rogueClientKey,
      }),
      1,
      /refused our client certificate \(TEMPORAL_TLS_CLIENT_CERT_PATH\)/,
    ],
    [
      'the wrong CA for the server',
      () => ({ ...mtlsEnv, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.rogueCaCert }),
      1,
      /server certificate we do not trust .*set TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
    ],
    [
      'an expired client certificate',
      () => ({
        ...mtlsEnv,
        TEMPORAL_TLS_CLIENT_CERT_PATH: pki.expiredCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: pki.expiredKey,
      }),
      2,
      /TEMPORAL_TLS_CLIENT_CERT_PATH: the client certificate expired on/,
    ],
    [
      'a wrong API key',
      () => ({ ...keyEnv, TEMPORAL_API_KEY: 'not-the-key' }),
      1,
      /refused the API key in TEMPORAL_API_KEY \(UNAUTHENTICATED\)/,
    ],
    [
      'no API key',
      () => ({ ...keyEnv, TEMPORAL_API_KEY: '', TEMPORAL_TLS: 'true' }),
      1,
      /requires credentials \(UNAUTHENTICATED\)/,
    ],
    ['plaintext settings for a TLS front', () => ({ ...base, TEMPORAL_ADDRESS: keyed.address }), 1, /expects TLS/],
  ];
  test('each refusal: export exits 1 (server refused) or 2 (bad settings) saying why, fast, and starts nothing', async () => {
    // One after another, so each one's time is its own (side by side they only compete for the two cores).
    const results = [];
    for (const [what, env, code, message] of refusals) {
      const id = `secure-refused-${what.replace(/\W+/g, '-')}`;
      const startedAt = Date.now();
      const res = await runCli(
        ['export', 'altcraft', '--source-type', 'database', '--source-id', '1', '--id', id],
        env(),
      );
      results.push({ what, code, message, id, res, ms: Date.now() - startedAt });
    }
    for (const { what, code, message, id, res, ms } of results) {
      assert.equal(res.code, code, `${what}: ${res.stderr}`);
      assert.match(res.stderr, message, what);
      assert.doesNotMatch(res.stderr, /grpc|tonic|ServiceError|at .*\.js:\d+/i, `${what}: no raw gRPC dump`);
      assert.ok(ms < 20_000, `${what}: fails fast (${ms} ms)`);
      await assert.rejects(inspector.temporal.workflow.getHandle(id).describe(), /not found/i, what);
      console.log(`${what}: exit ${res.code} in ${ms} ms: ${res.stderr.trim().split('\n').pop()}`);
    }
  });

  test('a worker with refused credentials exits 1 before polling', async () => {
    const w = spawnWorker({
      ...mtlsEnv,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.rogueClientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.rogueClientKey,
    });
    await assert.rejects(w.ready, /exited with 1[\s\S]*refused our client certificate/);
  });

  test('API key: the right key works over TLS; the front saw the key missing or wrong on the refused calls', async () => {
    const done = await runCli(
      ['export', 'altcraft', '--source-type', 'segment', '--source-id', '4', '--wait', '--json'],
      keyEnv,
    );
    assert.equal(done.code, 0, done.stderr);
    assert.equal(JSON.parse(done.stdout).status, 'completed');
    assert.ok(keyed.stats.forwarded > 0 && keyed.stats.rejected > 0, JSON.stringify(keyed.stats));
  });
});
