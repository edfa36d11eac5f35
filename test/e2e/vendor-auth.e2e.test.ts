/* eslint-disable @typescript-eslint/no-explicit-any -- manifests and CLI JSON are read field by field */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Simulator } from '../../src/simulator';
import { ALTCRAFT_DEFAULTS, altcraftTariffLimitFault } from '../../src/simulator/altcraft';
import { APSIS_DEFAULTS } from '../../src/simulator/apsis';
import { MYTRACKER_DEFAULTS } from '../../src/simulator/mytracker';
import { SIM_ACCESS_TOKEN } from '../helpers/apsis';
import { startStack, type TestStack } from '../helpers/stack';
import { runCli, type CliResult, type WorkerProcess } from '../helpers/processes';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * Tokens and links as the vendors document them, end to end (CLI -> Temporal dev server -> worker process ->
 * simulator on 127.0.0.1): an APSIS token answer without `expires_in` (lifetime from the JWT's exp), a 403 that
 * a fresh token cures, myTracker storage that demands the link's signature, and Altcraft's "402 Tariff limit
 * reached" as a final failure.
 */
describe('vendor tokens and links end to end', () => {
  let stack: TestStack;
  let sim: Simulator;
  let env: Record<string, string>;
  let worker: WorkerProcess;
  const printed: string[] = [];
  const apsisSim = { ...APSIS_DEFAULTS, reportReadyAfterMs: 300 };
  const mytrackerSim = { ...MYTRACKER_DEFAULTS, exportDurationMs: 500, files: 2, rowsPerFile: 50 };
  const altcraftSim = { ...ALTCRAFT_DEFAULTS, taskDurationMs: 300 };

  async function run(args: string[]): Promise<{ res: CliResult; out: any }> {
    const res = await runCli([...args, '--wait', '--json'], env, 150_000);
    printed.push(res.stdout, res.stderr);
    let out: any;
    try {
      out = JSON.parse(res.stdout);
    } catch {
      assert.fail(`no JSON on stdout (exit ${res.code}): ${res.stdout}\n${res.stderr}`);
    }
    return { res, out };
  }
  const apsisExport = ['export', 'apsis-segment', '--section', 'com.example.section', '--segment', 'com.example.seg'];

  before(async () => {
    stack = await startStack('vendor-auth', {
      sim: { apsis: apsisSim, mytracker: mytrackerSim, altcraft: altcraftSim },
    });
    ({ sim, env } = stack);
    worker = stack.workers[0]!;
  });
  after(async () => {
    await stack?.stop();
  });
  beforeEach(() => {
    sim.reset();
    Object.assign(sim.apsis.config, apsisSim);
    Object.assign(sim.mytracker.config, mytrackerSim);
    Object.assign(sim.altcraft.config, altcraftSim);
  });

  test('APSIS: a token answer without expires_in (a JWT with exp) serves the export; one token request', async () => {
    const { res, out } = await run(apsisExport);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(out.files.length, 1);
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'token' }), 1);
    assert.equal(sim.requests.filter((r) => r.vendor === 'apsis' && r.status === 401).length, 0);
  });

  test('APSIS: a 403 to the cached token gets one new token and the export completes', async () => {
    // The worker holds a token from the test before; withdraw it with 403, as APSIS may answer.
    sim.apsis.expireTokens(403);
    const { res, out } = await run(apsisExport);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(out.files[0].sha256, sim.served()[0]!.sha256);
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'token' }), 1, 'one new token');
    assert.deepEqual(
      sim.requests
        .filter((r) => r.vendor === 'apsis' && r.endpoint !== 'token')
        .map((r) => r.status)
        .slice(0, 2),
      [403, 200],
    );
  });

  test('APSIS: a 403 that a new token does not cure fails at once, saying the new token was refused too', async () => {
    sim.faults.add({ vendor: 'apsis', endpoint: 'segment-report', kind: 'status', status: 403, times: 10 });
    const { res, out } = await run(apsisExport);
    assert.equal(res.code, 1, res.stderr);
    assert.equal(out.error.type, FAILURE_TYPES.auth);
    assert.match(
      out.error.message,
      /refused the access token \(HTTP 403\) and then a newly issued one too \(HTTP 403\)/,
    );
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'segment-report' }), 2, 'no loop, no activity retry');
  });

  test('myTracker: storage that demands the signature gets each link signed after one unsigned refusal', async () => {
    sim.mytracker.config.storageRequiresSignature = true;
    const { res, out } = await run(['export', 'mytracker', '--segment', '31']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(out.files.length, 2);
    for (const file of out.files) {
      assert.equal(file.sha256, sim.served().find((s) => s.path.endsWith(file.name))?.sha256, file.name);
    }
    const storage = sim.requests.filter((r) => r.vendor === 'mytracker' && r.storageHost);
    assert.deepEqual(storage.map((r) => [r.status, r.hadAuthorization]).sort(), [
      [200, true],
      [200, true],
      [403, false],
      [403, false],
    ]);
    // The signature went to storage; the secret went nowhere, and the header is in no manifest or log.
    for (const text of [JSON.stringify(out), worker.logs(), printed.join('\n')]) {
      assert.doesNotMatch(text, /AuthHMAC/);
      assert.equal(text.includes(sim.mytracker.config.secret), false);
    }
  });

  test('myTracker: storage refusing the signed link too: 401 is a final auth error, 403 a dead link refreshed', async () => {
    // One file, so the two faults meet the unsigned and the signed request of the same link.
    sim.mytracker.config.files = 1;
    sim.faults.add({ vendor: 'mytracker', endpoint: 'download', kind: 'status', status: 401, times: 2 });
    const refused = await run(['export', 'mytracker', '--segment', '33']);
    assert.equal(refused.res.code, 1, refused.res.stderr);
    assert.equal(refused.out.error.type, FAILURE_TYPES.auth);
    assert.match(refused.out.error.message, /storage refused the signed link too \(HTTP 401\)/);
    assert.deepEqual(
      sim.requests.filter((r) => r.storageHost).map((r) => [r.status, r.hadAuthorization]),
      [
        [401, false],
        [401, true],
      ],
    );

    sim.reset();
    sim.faults.add({ vendor: 'mytracker', endpoint: 'download', kind: 'status', status: 403, times: 2 });
    const refreshed = await run(['export', 'mytracker', '--segment', '34']);
    assert.equal(refreshed.res.code, 0, refreshed.res.stderr);
    assert.equal(refreshed.out.files.length, 1);
    const gets = sim.count({ vendor: 'mytracker', endpoint: 'get' });
    assert.ok(gets >= 2, `the dead link was refreshed through get.json (${gets} get.json calls)`);
  });

  test('myTracker: by default storage links are fetched unsigned only', async () => {
    const { res } = await run(['export', 'mytracker', '--segment', '32']);
    assert.equal(res.code, 0, res.stderr);
    const storage = sim.requests.filter((r) => r.vendor === 'mytracker' && r.storageHost);
    assert.deepEqual(
      storage.map((r) => [r.status, r.hadAuthorization]),
      [
        [200, false],
        [200, false],
      ],
    );
  });

  test('Altcraft: "402 Tariff limit reached" fails the export at once with those words', async () => {
    sim.faults.add(altcraftTariffLimitFault('get_all', 402, 10));
    const started = Date.now();
    const { res, out } = await run(['export', 'altcraft', '--source-type', 'database', '--source-id', '4']);
    assert.equal(res.code, 1, res.stderr);
    assert.equal(out.error.type, FAILURE_TYPES.altcraft);
    assert.match(out.error.message, /error 402 "Tariff limit reached"/);
    assert.equal(sim.count({ vendor: 'altcraft', endpoint: 'get_all' }), 1, 'not retried');
    assert.ok(Date.now() - started < 60_000);

    // The same answer to a file download.
    sim.reset();
    sim.faults.add({ ...altcraftTariffLimitFault('get_all', 402, 10), endpoint: 'download' });
    const download = await run(['export', 'altcraft', '--source-type', 'database', '--source-id', '5']);
    assert.equal(download.res.code, 1, download.res.stderr);
    assert.equal(download.out.error.type, FAILURE_TYPES.altcraft);
    assert.match(download.out.error.message, /^Altcraft download: error 402 "Tariff limit reached"/);
    assert.equal(sim.count({ vendor: 'altcraft', endpoint: 'download' }), 1, 'not retried, no ?token= try');
  });

  test('no APSIS access token in anything printed or logged', () => {
    for (const text of [worker.logs(), printed.join('\n')]) assert.doesNotMatch(text, SIM_ACCESS_TOKEN);
  });
});
