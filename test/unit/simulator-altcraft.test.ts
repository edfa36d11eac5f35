/* eslint-disable @typescript-eslint/no-explicit-any -- vendor JSON is read field by field */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { countCsvRecords, csvBytesOf, csvInfo, startSimulator, type Simulator } from '../../src/simulator';
import { json, postJson, rawRequest } from '../../src/simulator/probe';
import { altcraftStatusMeaning } from '../../src/providers/altcraft/constants';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('simulator: Altcraft', () => {
  let sim: Simulator;
  let token: string;
  const api = (path: string): string => `${sim.url}${path}`;
  const createTask = async (body: Record<string, unknown> = {}): Promise<string> => {
    const res = await postJson(api('/api/v1.1/profiles/get_all'), {
      token,
      source_type: 'database',
      source_id: 7,
      ...body,
    });
    const data = json(res);
    assert.equal(data.error, 0, JSON.stringify(data));
    return data.data.task_id as string;
  };
  const status = async (taskId: string): Promise<any> =>
    json(await postJson(api('/api/v1.1/tasks/status'), { token, task_id: taskId }));
  const waitDone = async (taskId: string): Promise<any> => {
    for (let i = 0; i < 50; i++) {
      const s = await status(taskId);
      if (s.data.progress === 100) return s;
      await sleep(20);
    }
    throw new Error('task never finished');
  };

  before(async () => {
    sim = await startSimulator({ altcraft: { taskDurationMs: 150 } });
    token = sim.credentials.altcraftToken;
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.reset();
    Object.assign(sim.altcraft.config, {
      taskDurationMs: 150,
      statusWord: 'completed',
      supportRange: true,
      failTasks: false,
      failFirstTasks: 0,
      failMode: 'status',
      downloadAuth: 'either',
      totalOffset: 0,
    });
  });

  it('by default reports a running word the client expects ("processing"), so a sample export logs no warning', async () => {
    const first = await status(await createTask());
    assert.equal(first.data.status, 'processing');
    assert.equal(altcraftStatusMeaning(first.data.status), 'inFlight');
    assert.equal(first.data.result, undefined);
  });

  it('plays panels that take the download token only as ?token= (v72) or only as a Bearer header', async () => {
    sim.altcraft.config.taskDurationMs = 0;
    const done = await waitDone(await createTask());
    const path: string = done.data.result.urls[0];
    const bearer = { headers: { authorization: `Bearer ${token}` } };
    sim.altcraft.config.downloadAuth = 'query';
    assert.equal((await rawRequest(api(path), bearer)).status, 401);
    assert.equal((await rawRequest(api(`${path}?token=${token}`))).status, 200);
    sim.altcraft.config.downloadAuth = 'bearer';
    assert.equal((await rawRequest(api(`${path}?token=${token}`))).status, 401);
    assert.equal((await rawRequest(api(path), bearer)).status, 200);
  });

  it('reports result.total off by totalOffset, to play a count that differs from the rows', async () => {
    Object.assign(sim.altcraft.config, { taskDurationMs: 0, totalOffset: 2 });
    const done = await waitDone(await createTask());
    assert.equal(done.data.result.total, 109);
  });

  it('given a valid create, when polled to the end, then the file downloads byte-identical to csvInfo', async () => {
    const taskId = await createTask();
    assert.match(taskId, /^task_[0-9a-f-]{36}$/);
    const first = await status(taskId);
    assert.deepEqual(
      { status: first.data.status, error: first.error, error_text: first.error_text },
      { status: 'processing', error: 0, error_text: 'Successful operation' },
    );
    assert.ok(first.data.progress >= 0 && first.data.progress < 100);
    const done = await waitDone(taskId);
    assert.equal(done.data.status, 'completed');
    assert.deepEqual(done.data.result.errors, []);
    assert.equal(done.data.result.total, 107);
    assert.equal(done.data.result.type, 'database');
    assert.equal(done.data.result.source_id, 7);
    const [url] = done.data.result.urls as string[];
    assert.match(url ?? '', /^\/api\/download\/data\/[0-9a-f-]{36}\/7_database_export\.csv$/);

    const file = await rawRequest(api(url!), { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], 'text/csv');
    assert.equal(Number(file.headers['content-length']), file.body.length);
    assert.ok(file.headers.etag && file.headers['last-modified']);
    const expected = csvInfo('altcraft:database:7:0', 107);
    assert.equal(sha256(file.body), expected.sha256);
    assert.equal(countCsvRecords(file.body), 108); // header + 107 profiles, some with embedded newlines
    assert.deepEqual(
      sim.altcraft.served.map((s) => ({ sha256: s.sha256, bytes: s.bytes, rows: s.rows, encoding: s.encoding })),
      [{ sha256: expected.sha256, bytes: expected.bytes, rows: 107, encoding: null }],
    );
  });

  it('accepts the download token as ?token= too, and never logs it', async () => {
    sim.altcraft.config.taskDurationMs = 0;
    const done = await waitDone(await createTask());
    const res = await rawRequest(api(`${done.data.result.urls[0]}?token=${token}`));
    assert.equal(res.status, 200);
    const logged = sim.requests.find((r) => r.endpoint === 'download');
    assert.ok(logged && logged.path.endsWith('?token=***') && !logged.path.includes(token));
    assert.equal(logged.hadAuthorization, false);
  });

  it('answers a wrong token with a body-level error under HTTP 200', async () => {
    for (const path of ['/api/v1.1/profiles/get_all', '/api/v1.1/tasks/status']) {
      const res = await postJson(api(path), { token: 'nope', source_type: 'database', source_id: 1, task_id: 'x' });
      assert.equal(res.status, 200);
      const body = json(res);
      assert.equal(body.error, 3);
      assert.equal(body.error_text, 'Invalid token');
      assert.equal(body.data, null);
    }
  });

  it('rejects bad input, unknown tasks and unauthenticated downloads', async () => {
    const badType = json(
      await postJson(api('/api/v1.1/profiles/get_all'), { token, source_type: 'table', source_id: 1 }),
    );
    assert.notEqual(badType.error, 0);
    const badId = json(
      await postJson(api('/api/v1.1/profiles/get_all'), { token, source_type: 'segment', source_id: 0 }),
    );
    assert.notEqual(badId.error, 0);
    const unknown = json(await postJson(api('/api/v1.1/tasks/status'), { token, task_id: 'task_nope' }));
    assert.deepEqual([unknown.error !== 0, unknown.error_text], [true, 'Task not found']);
    sim.altcraft.config.taskDurationMs = 0;
    const done = await waitDone(await createTask());
    assert.equal((await rawRequest(api(done.data.result.urls[0]))).status, 401);
    assert.equal(
      (
        await rawRequest(api('/api/download/data/nope/1_database_export.csv'), {
          headers: { Authorization: `Bearer ${token}` },
        })
      ).status,
      404,
    );
  });

  it('reports the Russian status word and splits rows over several files when configured', async () => {
    Object.assign(sim.altcraft.config, {
      statusWord: 'success',
      taskDurationMs: 0,
      filesPerTask: 2,
      rows: { 'segment:3': 11 },
    });
    try {
      const done = await waitDone(await createTask({ source_type: 'segment', source_id: 3 }));
      assert.equal(done.data.status, 'success');
      assert.equal(done.data.result.total, 11);
      assert.equal(done.data.result.urls.length, 2);
      const t = sim.altcraft.tasks()[0]!;
      assert.deepEqual(
        t.files.map((f) => f.rows),
        [6, 5],
      );
    } finally {
      Object.assign(sim.altcraft.config, { filesPerTask: 1, rows: {} });
    }
  });

  it('serves Range: bytes=N- as 206 with Content-Range, 416 past the end, and 200 when ranges are off', async () => {
    sim.altcraft.config.taskDurationMs = 0;
    const done = await waitDone(await createTask());
    const url = api(done.data.result.urls[0]);
    const auth = { Authorization: `Bearer ${token}` };
    const full = csvBytesOf('altcraft:database:7:0', 107);
    const part = await rawRequest(url, { headers: { ...auth, Range: 'bytes=1000-' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 1000-${full.length - 1}/${full.length}`);
    assert.ok(part.body.equals(full.subarray(1000)));
    assert.equal((await rawRequest(url, { headers: { ...auth, Range: `bytes=${full.length}-` } })).status, 416);
    assert.equal(sim.altcraft.served.length, 0, 'ranged answers are not full downloads');
    sim.altcraft.config.supportRange = false;
    const whole = await rawRequest(url, { headers: { ...auth, Range: 'bytes=1000-' } });
    assert.equal(whole.status, 200);
    assert.ok(whole.body.equals(full));
    assert.equal(sim.count({ vendor: 'altcraft', endpoint: 'download' }), 3);
    assert.equal(sim.requests.filter((r) => r.range === 'bytes=1000-').length, 2);
  });

  it('fails tasks as configured: status "error" with text, or errors with total 0', async () => {
    Object.assign(sim.altcraft.config, { taskDurationMs: 0, failFirstTasks: 1 });
    const failed = await waitDone(await createTask());
    assert.equal(failed.data.status, 'error');
    assert.equal(failed.data.result.errors.length, 1);
    const ok = await waitDone(await createTask());
    assert.equal(ok.data.status, 'completed');
    Object.assign(sim.altcraft.config, { failTasks: true, failMode: 'errors' });
    const empty = await waitDone(await createTask());
    assert.equal(empty.data.status, 'completed');
    assert.equal(empty.data.result.total, 0);
    assert.ok(empty.data.result.errors.length > 0);
  });

  it('injects faults in order: status, HTML page, error-in-200 JSON, then normal service', async () => {
    sim.faults.add({ vendor: 'altcraft', endpoint: 'get_all', kind: 'status', status: 503 });
    sim.faults.add({ vendor: 'altcraft', endpoint: 'get_all', kind: 'html' });
    sim.faults.add({
      vendor: 'altcraft',
      endpoint: 'get_all',
      kind: 'json',
      body: { error: 42, error_text: 'Limits exceeded', data: null },
    });
    const body = { token, source_type: 'database', source_id: 1 };
    assert.equal((await postJson(api('/api/v1.1/profiles/get_all'), body)).status, 503);
    const html = await postJson(api('/api/v1.1/profiles/get_all'), body);
    assert.equal(html.status, 200);
    assert.match(String(html.headers['content-type']), /text\/html/);
    assert.equal(json(await postJson(api('/api/v1.1/profiles/get_all'), body)).error, 42);
    assert.equal(json(await postJson(api('/api/v1.1/profiles/get_all'), body)).error, 0);
  });

  it('cuts downloads: truncate after N bytes, wrong Content-Length, connection reset', async () => {
    sim.altcraft.config.taskDurationMs = 0;
    const done = await waitDone(await createTask());
    const url = api(done.data.result.urls[0]);
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    sim.faults.add({ vendor: 'altcraft', endpoint: 'download', kind: 'truncate', afterBytes: 500 });
    const cut = await rawRequest(url, auth);
    assert.equal(cut.status, 200);
    assert.equal(cut.complete, false);
    assert.equal(cut.body.length, 500);
    assert.ok(Number(cut.headers['content-length']) > 500);
    sim.faults.add({ vendor: 'altcraft', endpoint: 'download', kind: 'wrongLength' });
    const lying = await rawRequest(url, auth);
    assert.equal(lying.complete, false);
    assert.equal(Number(lying.headers['content-length']), lying.body.length + 16);
    sim.faults.add({ vendor: 'altcraft', endpoint: 'download', kind: 'reset' });
    const reset = await rawRequest(url, auth);
    assert.equal(reset.status, 0);
    assert.ok(reset.error);
    assert.equal(sim.altcraft.served.length, 0);
    assert.equal((await rawRequest(url, auth)).complete, true);
    assert.equal(sim.altcraft.served.length, 1);
  });

  it('honours afterCount, times and delay', async () => {
    sim.faults.add({
      vendor: 'altcraft',
      endpoint: 'status',
      afterCount: 1,
      times: 2,
      kind: 'status',
      status: 429,
      headers: { 'Retry-After': '3' },
    });
    const taskId = await createTask();
    const codes: number[] = [];
    for (let i = 0; i < 4; i++)
      codes.push((await postJson(api('/api/v1.1/tasks/status'), { token, task_id: taskId })).status);
    assert.deepEqual(codes, [200, 429, 429, 200]);
    sim.faults.add({ vendor: 'altcraft', endpoint: 'status', kind: 'delay', ms: 150 });
    const t0 = Date.now();
    assert.equal((await postJson(api('/api/v1.1/tasks/status'), { token, task_id: taskId })).status, 200);
    assert.ok(Date.now() - t0 >= 140);
  });

  it('throttles downloads when downloadBytesPerSec is set', async () => {
    Object.assign(sim.altcraft.config, { taskDurationMs: 0, downloadBytesPerSec: 40_000 });
    try {
      const done = await waitDone(await createTask());
      const t0 = Date.now();
      const res = await rawRequest(api(done.data.result.urls[0]), { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(res.complete, true);
      // ~8.8 kB at 40 kB/s in 2 kB slices 50 ms apart
      assert.ok(Date.now() - t0 >= 150, `took ${Date.now() - t0} ms`);
    } finally {
      delete sim.altcraft.config.downloadBytesPerSec;
    }
  });
});
