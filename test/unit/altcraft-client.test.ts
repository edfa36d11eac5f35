import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AltcraftClient, interpretStatus, resolveDownloadUrl } from '../../src/providers/altcraft/client';
import { ClassifiedError } from '../../src/providers/errors';
import { startSimulator, type Simulator } from '../../src/simulator';
import { altcraftTariffLimitFault } from '../../src/simulator/altcraft';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

const isClassifiedError = (type: string, retryable: boolean, message?: RegExp) => (err: unknown) =>
  err instanceof ClassifiedError &&
  err.type === type &&
  err.retryable === retryable &&
  (!message || message.test(err.message));

/** What interpretStatus answers for a task still running: the vendor's word, its progress, whether we know it. */
const running = (status: string, progress: number, known: boolean) => ({ state: 'running', status, progress, known });

describe('Altcraft status mapping', () => {
  const done = { errors: [], total: 3, urls: ['/api/download/x.csv'] };
  test('"completed" and "success" both mean done', () => {
    for (const status of ['completed', 'success', 'SUCCESS']) {
      const s = interpretStatus('t1', { status, progress: 100, result: done });
      assert.equal(s.state, 'done');
    }
  });
  test('in-flight words keep polling and carry the progress', () => {
    for (const status of ['pending', 'processing', 'in_progress', 'new', 'Running']) {
      assert.deepEqual(interpretStatus('t1', { status, progress: 40 }), running(status, 40, true));
    }
  });
  test('error/failed/canceled/aborted end the export with the vendor text', () => {
    for (const status of ['error', 'failed', 'canceled', 'cancelled', 'aborted', 'FAILED']) {
      assert.throws(
        () => interpretStatus('t1', { status, result: { errors: ['disk quota'], urls: [] } }),
        isClassifiedError(FAILURE_TYPES.jobFailed, false, /disk quota/),
      );
    }
    assert.throws(
      () => interpretStatus('t1', { status: 'aborted' }),
      isClassifiedError(FAILURE_TYPES.jobFailed, false, /aborted/),
    );
  });
  test('errors with total 0 is a failed export, not an empty success', () => {
    assert.throws(
      () => interpretStatus('t1', { status: 'completed', result: { errors: ['bad segment'], total: 0, urls: [] } }),
      isClassifiedError(FAILURE_TYPES.jobFailed, false, /bad segment/),
    );
  });
  test('given an undocumented word without a result, the task is still running and the word is flagged unknown', () => {
    for (const status of ['in progress', 'waiting', 'started', 'exploded', 'выполняется']) {
      assert.deepEqual(interpretStatus('t1', { status, progress: 12 }), running(status, 12, false));
      assert.equal(interpretStatus('t1', { status, result: null }).state, 'running');
      assert.equal(interpretStatus('t1', { status, result: { errors: [], urls: [] } }).state, 'running');
    }
  });
  test('given an undocumented word with a result, the result decides: files mean done, errors and no rows mean failed', () => {
    const state = interpretStatus('t1', { status: 'finished', result: done });
    assert.deepEqual(state, { state: 'done', status: 'finished', urls: done.urls, total: 3 });
    assert.throws(
      () => interpretStatus('t1', { status: 'finished', result: { errors: ['no such segment'], total: 0, urls: [] } }),
      isClassifiedError(FAILURE_TYPES.jobFailed, false, /no such segment/),
    );
  });
  test('a finished word without a result is still a typed response error', () => {
    assert.throws(
      () => interpretStatus('t1', { status: 'completed' }),
      isClassifiedError(FAILURE_TYPES.response, false),
    );
  });
  test('the download token goes as a Bearer header, or in the query for v72 panels; never both', () => {
    const api = new AltcraftClient({ baseUrl: 'https://p.example.com', token: 'tok en&x' });
    assert.deepEqual(api.downloadTarget('/api/download/a.csv'), {
      url: 'https://p.example.com/api/download/a.csv',
      headers: { authorization: 'Bearer tok en&x' },
    });
    const query = api.downloadTarget('/api/download/a.csv', 'query');
    assert.deepEqual(query.headers, {});
    assert.equal(new URL(query.url).searchParams.get('token'), 'tok en&x');
    assert.equal(new URL(query.url).pathname, '/api/download/a.csv');
  });
  test('download URLs stay on the panel host', () => {
    assert.equal(
      resolveDownloadUrl('https://p.example.com', '/api/download/a.csv'),
      'https://p.example.com/api/download/a.csv',
    );
    assert.equal(
      resolveDownloadUrl('https://p.example.com/sub', '/api/download/a.csv'),
      'https://p.example.com/sub/api/download/a.csv',
    );
    assert.throws(() => resolveDownloadUrl('https://p.example.com', 'https://evil.example.net/a.csv'), /another host/);
  });
});

describe('Altcraft client against the simulator over HTTP', () => {
  let sim: Simulator;
  let api: AltcraftClient;
  before(async () => {
    sim = await startSimulator({ altcraft: { taskDurationMs: 0 } });
    api = new AltcraftClient({ baseUrl: sim.url, token: sim.credentials.altcraftToken });
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  test('creates a task and reads it to done', async () => {
    const id = await api.createExport({ source_type: 'database', source_id: 1 });
    const state = await api.taskStatus(id);
    assert.equal(state.state, 'done');
    assert.equal(state.state === 'done' && state.urls.length, 1);
  });
  test('a wrong token is a final AltcraftError with the vendor code and text, never the token', async () => {
    const bad = new AltcraftClient({ baseUrl: sim.url, token: 'wrong-token-value' });
    await assert.rejects(bad.createExport({ source_type: 'database', source_id: 1 }), (err: unknown) => {
      assert.ok(
        isClassifiedError(FAILURE_TYPES.altcraft, false, /^Altcraft profiles\/get_all: error \d+ ".+"$/)(err),
        String(err),
      );
      assert.ok(!(err as Error).message.includes('wrong-token-value'));
      return true;
    });
  });
  test('an unknown task id is an error, not "still running"', async () => {
    await assert.rejects(api.taskStatus('task_does-not-exist'), isClassifiedError(FAILURE_TYPES.altcraft, false));
  });
  test('5xx and connection resets are retryable; a 429 with Retry-After is a quota block until then', async () => {
    sim.faults.add({ vendor: 'altcraft', endpoint: 'get_all', kind: 'status', status: 502 });
    await assert.rejects(
      api.createExport({ source_type: 'database', source_id: 1 }),
      isClassifiedError(FAILURE_TYPES.unavailable, true, /HTTP 502/),
    );
    sim.faults.add({ vendor: 'altcraft', endpoint: 'get_all', kind: 'reset' });
    await assert.rejects(
      api.createExport({ source_type: 'database', source_id: 1 }),
      isClassifiedError(FAILURE_TYPES.unavailable, true),
    );
    sim.faults.add({
      vendor: 'altcraft',
      endpoint: 'get_all',
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '7' },
    });
    // A 429 that says when it ends is a quota block: not retried by the activity, waited out by the workflow.
    const asked = Date.now();
    await assert.rejects(api.createExport({ source_type: 'database', source_id: 1 }), (err: unknown) => {
      assert.ok(isClassifiedError(FAILURE_TYPES.rateLimited, false)(err));
      const resetAt = (err as ClassifiedError).details.resetAt ?? 0;
      assert.ok(resetAt >= asked + 7_000 && resetAt <= Date.now() + 7_000, `resetAt ${resetAt}`);
      return true;
    });
  });
  test('"402 Tariff limit reached", as HTTP 402 or as the body code, is final with those words, called once', async () => {
    const tariff = /^Altcraft (profiles\/get_all|tasks\/status): error 402 "Tariff limit reached" \(.*not retried/;
    sim.faults.add(altcraftTariffLimitFault('get_all', 402));
    await assert.rejects(
      api.createExport({ source_type: 'database', source_id: 1 }),
      isClassifiedError(FAILURE_TYPES.altcraft, false, tariff),
    );
    sim.faults.add(altcraftTariffLimitFault('status', 200));
    await assert.rejects(api.taskStatus('t'), isClassifiedError(FAILURE_TYPES.altcraft, false, tariff));
    // A bare 402 without Altcraft's body still says what the code means.
    sim.faults.add({ vendor: 'altcraft', endpoint: 'get_all', kind: 'status', status: 402, body: '' });
    await assert.rejects(
      api.createExport({ source_type: 'database', source_id: 1 }),
      isClassifiedError(FAILURE_TYPES.altcraft, false, tariff),
    );
    assert.deepEqual(
      sim.requests.filter((r) => r.vendor === 'altcraft').map((r) => r.status),
      [402, 200, 402],
    );
  });
  test('401/403 are final credential errors', async () => {
    sim.faults.add({ vendor: 'altcraft', endpoint: 'status', kind: 'status', status: 403 });
    await assert.rejects(api.taskStatus('t'), isClassifiedError(FAILURE_TYPES.auth, false, /HTTP 403/));
  });
  test('an HTML page or a drifted schema is a typed response error showing what was seen', async () => {
    sim.faults.add({ vendor: 'altcraft', endpoint: 'get_all', kind: 'html' });
    await assert.rejects(
      api.createExport({ source_type: 'database', source_id: 1 }),
      isClassifiedError(FAILURE_TYPES.response, false, /HTML/),
    );
    sim.faults.add({
      vendor: 'altcraft',
      endpoint: 'get_all',
      kind: 'json',
      body: { data: { taskId: 'x' }, error: 0, error_text: 'ok' },
    });
    await assert.rejects(
      api.createExport({ source_type: 'database', source_id: 1 }),
      isClassifiedError(FAILURE_TYPES.response, false, /task_id/),
    );
  });
});
