import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureTemporalCli, startDevServer, type DevServer } from '../../src/dev/temporal-server';
import { requiredSearchAttributes } from '../../src/temporal/setup';
import { startSimulator, type Simulator } from '../../src/simulator';
import { testEnv } from '../helpers/env';
import { startGrpcRefuser, type GrpcRefuser } from '../helpers/grpc-refuser';
import { runCli, spawnWorker } from '../helpers/processes';
import { freePort } from '../helpers/temporal';

const ADD = 'AddSearchAttributes';

/**
 * A namespace without exportflow's search attributes, reached through a gRPC front that refuses
 * OperatorService.AddSearchAttributes with PERMISSION_DENIED (what Temporal Cloud, or a cluster where the worker
 * has no operator rights, answers). The worker and `exportflow setup` must refuse to run, naming each attribute
 * and the commands; with the attributes created, the same refusing front lets the worker start at once.
 */
describe('namespace made ready or refused', () => {
  let temporal: DevServer;
  let refuser: GrpcRefuser;
  let sim: Simulator;
  let direct: Record<string, string>;
  let refused: Record<string, string>;

  before(async () => {
    const cli = await ensureTemporalCli();
    temporal = await startDevServer({
      cli,
      address: `127.0.0.1:${await freePort()}`,
      uiPort: null,
      bareNamespace: true,
    });
    refuser = await startGrpcRefuser({ upstream: temporal.address, refuse: [ADD] });
    sim = await startSimulator();
    direct = testEnv(temporal.address, sim, 'namespace');
    refused = { ...direct, TEMPORAL_ADDRESS: refuser.address };
  });

  after(async () => {
    await refuser?.close();
    await sim?.close();
    await temporal?.stop();
  });

  test('refused: the worker exits non-zero within seconds naming each attribute and the commands', async () => {
    const t0 = Date.now();
    const worker = spawnWorker(refused);
    const code = await new Promise<number | null>((resolve) => worker.child.once('exit', resolve));
    const ms = Date.now() - t0;
    const out = worker.logs();
    assert.notEqual(code, 0, out);
    assert.ok(ms < 30_000, `exited after ${ms} ms`);
    assert.ok(refuser.refused.length >= 1, 'the worker tried to register them');
    assert.match(out, /PERMISSION_DENIED/);
    for (const a of requiredSearchAttributes()) {
      assert.ok(
        out.includes(
          `temporal operator search-attribute create --namespace default --name ${a.name} --type ${a.cliType}`,
        ),
        `names ${a.name} with its command:\n${out}`,
      );
      assert.ok(out.includes(`--search-attribute "${a.name}=${a.cliType}"`), `tcld names ${a.name}`);
    }
    assert.doesNotMatch(out, /"worker started"/);
  });

  test('refused: `exportflow setup` fails the same way', async () => {
    const res = await runCli(['setup'], refused, 60_000);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /lacks search attributes exportflow needs/);
    assert.match(res.stderr, /tcld namespace search-attributes add --namespace default/);
  });

  test('allowed: setup registers them; then the refusing front lets a worker start, with no add call', async () => {
    const res = await runCli(['setup'], direct, 60_000);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /registered search attributes: /);
    const again = await runCli(['setup'], direct, 60_000);
    assert.match(again.stderr, /already registered/);

    const refusedBefore = refuser.refused.length;
    const worker = spawnWorker(refused);
    try {
      await worker.ready;
      assert.equal(refuser.refused.length, refusedBefore, 'nothing to add, so nothing refused');
      assert.ok(refuser.calls.some((c) => c.endsWith('/ListSearchAttributes')));
    } finally {
      await worker.kill('SIGKILL');
    }
  });
});
