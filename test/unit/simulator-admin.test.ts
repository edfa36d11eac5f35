import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { SIMULATOR_DEFAULTS, csvInfo, csvSize, simulatorEnv, startSimulator } from '../../src/simulator';
import { json, postJson, rawRequest } from '../../src/simulator/probe';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('simulator: admin API and lifecycle', () => {
  it('drives faults, config, logs and reset over HTTP', async () => {
    const sim = await startSimulator();
    try {
      const admin = (path: string): string => `${sim.url}/__sim/${path}`;
      assert.deepEqual(sim.credentials, { ...SIMULATOR_DEFAULTS });
      assert.equal(simulatorEnv(sim).ALTCRAFT_BASE_URL, sim.url);

      assert.equal(
        (
          await postJson(admin('config'), {
            vendor: 'altcraft',
            patch: { taskDurationMs: 0, rows: { 'database:5': 3 } },
          })
        ).status,
        200,
      );
      assert.equal(sim.altcraft.config.taskDurationMs, 0);
      assert.equal((await postJson(admin('config'), { vendor: 'nope', patch: {} })).status, 400);

      assert.equal(
        (
          await postJson(admin('faults'), {
            vendor: 'altcraft',
            endpoint: 'get_all',
            kind: 'status',
            status: 502,
            times: 'Infinity',
          })
        ).status,
        201,
      );
      const token = SIMULATOR_DEFAULTS.altcraftToken;
      const create = (): ReturnType<typeof postJson> =>
        postJson(`${sim.url}/api/v1.1/profiles/get_all`, { token, source_type: 'database', source_id: 5 });
      assert.equal((await create()).status, 502);
      assert.equal((await create()).status, 502);
      assert.equal((await rawRequest(admin('faults'), { method: 'DELETE' })).status, 204);
      const taskId = json(await create()).data.task_id;
      const done = json(await postJson(`${sim.url}/api/v1.1/tasks/status`, { token, task_id: taskId }));
      assert.equal(done.data.result.total, 3);
      await rawRequest(`${sim.url}${done.data.result.urls[0]}`, { headers: { Authorization: `Bearer ${token}` } });

      const served = json(await rawRequest(admin('served')));
      assert.equal(served.length, 1);
      assert.equal(served[0].sha256, csvInfo('altcraft:database:5:0', 3).sha256);
      const log = json(await rawRequest(admin('requests'))) as Array<{
        vendor: string;
        endpoint: string;
        status: number;
      }>;
      assert.deepEqual(
        log.filter((r) => r.vendor === 'altcraft').map((r) => `${r.endpoint}:${r.status}`),
        ['get_all:502', 'get_all:502', 'get_all:200', 'status:200', 'download:200'],
      );
      assert.equal(sim.count({ vendor: 'unknown' }), 0);
      assert.equal((await rawRequest(`${sim.url}/nothing/here`)).status, 404);
      assert.equal(sim.count({ vendor: 'unknown' }), 1);

      assert.equal((await rawRequest(admin('reset'), { method: 'POST' })).status, 204);
      assert.equal(sim.altcraft.tasks().length, 0);
      assert.equal(json(await rawRequest(admin('served'))).length, 0);
      assert.equal(sim.requests.length, 1, 'only the served query after the reset');
      assert.equal(sim.altcraft.config.taskDurationMs, 0, 'reset keeps config');
    } finally {
      await sim.close();
    }
  });

  it('survives a client that disconnects mid-download, and close() ends open downloads promptly', async () => {
    const sim = await startSimulator({
      altcraft: { taskDurationMs: 0, rows: { 'database:1': 50_000 }, downloadBytesPerSec: 200_000 },
    });
    const token = SIMULATOR_DEFAULTS.altcraftToken;
    const taskId = json(
      await postJson(`${sim.url}/api/v1.1/profiles/get_all`, { token, source_type: 'database', source_id: 1 }),
    ).data.task_id;
    const url = `${sim.url}${json(await postJson(`${sim.url}/api/v1.1/tasks/status`, { token, task_id: taskId })).data.result.urls[0]}`;

    // A client killed part way: the simulator must not record the file as served.
    await new Promise<void>((resolve) => {
      const req = request(url, { headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.end();
    });
    await sleep(100);
    assert.equal(sim.altcraft.served.length, 0);
    const tail = await rawRequest(url, {
      headers: { Authorization: `Bearer ${token}`, Range: `bytes=${csvSize(50_000) - 100}-` },
    });
    assert.equal(tail.status, 206, 'still serving after the abort');
    assert.equal(tail.body.length, 100);

    const hanging = rawRequest(url, { headers: { Authorization: `Bearer ${token}` } });
    await sleep(100);
    const t0 = Date.now();
    await sim.close();
    const res = await hanging;
    assert.ok(Date.now() - t0 < 1000, 'close() did not wait for the throttled download');
    assert.equal(res.complete, false);
  });
});
