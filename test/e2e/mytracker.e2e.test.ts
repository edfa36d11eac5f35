/* eslint-disable @typescript-eslint/no-explicit-any -- manifests and vendor JSON are read field by field */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ExportClient } from '../../src/client';
import { csvBytesOf, mytrackerAuthorization, type Simulator } from '../../src/simulator';
import { MYTRACKER_DEFAULTS } from '../../src/simulator/mytracker';
import { startStack, type TestStack } from '../helpers/stack';
import { runCli, spawnWorker, waitFor, type WorkerProcess } from '../helpers/processes';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * myTracker end to end: the CLI starts exports on a real Temporal dev server, a separate worker process signs
 * every call to the simulator (which checks each signature with its own implementation), and the stored
 * `.csv.gz` files are compared with what the simulator served.
 */
describe('mytracker export end to end', () => {
  let stack: TestStack;
  let sim: Simulator;
  let env: Record<string, string>;
  let worker: WorkerProcess;
  let client: ExportClient;
  const ROWS = 500;
  const simDefaults = { ...MYTRACKER_DEFAULTS, exportDurationMs: 1000, rowsPerFile: ROWS };

  before(async () => {
    stack = await startStack('mytracker', { sim: { mytracker: simDefaults } });
    ({ sim, env, client } = stack);
    worker = stack.workers[0]!;
  });

  after(async () => {
    await stack?.stop();
  });

  beforeEach(() => {
    sim.reset();
    const config = sim.mytracker.config;
    delete config.userError;
    delete config.canceled;
    delete config.downloadBytesPerSec;
    Object.assign(config, simDefaults);
  });

  const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');
  const mt = (endpoint?: string) => sim.count({ vendor: 'mytracker', ...(endpoint ? { endpoint } : {}) });

  async function exportWait(args: string[], timeoutMs = 120_000) {
    const res = await runCli(['export', 'mytracker', ...args, '--wait', '--json'], env, timeoutMs);
    let out: any;
    try {
      out = JSON.parse(res.stdout);
    } catch {
      assert.fail(`no JSON on stdout (exit ${res.code}): ${res.stdout}\n${res.stderr}`);
    }
    return { res, out };
  }

  /** Each manifest file equals a file the simulator served: same bytes, same decompressed CSV, same rows. */
  function assertFilesMatchServed(manifest: { files: any[] }, segmentId: number) {
    const served = sim.served().filter((f) => f.vendor === 'mytracker');
    for (const file of manifest.files) {
      const record = served.find((s) => path.posix.basename(s.path) === file.name);
      assert.ok(record, `${file.name} was served`);
      const stored = fs.readFileSync(file.path);
      assert.equal(sha256(stored), file.sha256, 'manifest checksum is of the stored bytes');
      assert.equal(file.sha256, record.sha256, 'stored byte for byte as served (still gzip)');
      assert.equal(file.bytes, record.bytes);
      const csv = zlib.gunzipSync(stored);
      assert.equal(sha256(csv), record.decodedSha256);
      const k = Number(/^\d+\.(\d+)\./.exec(file.name)?.[1]) - 1;
      // By default the header line is in the first file only (create.json), as the simulator plays it.
      const header = k === 0 || sim.mytracker.config.headerInEveryFile;
      assert.ok(
        csv.equals(csvBytesOf(`mytracker:${segmentId}:${k}`, ROWS, { header })),
        `${file.name} decompresses to the data set`,
      );
      assert.equal(file.rows, ROWS, 'rows counted in the decompressed stream, a header excluded where there is one');
      assert.equal(file.encoding, 'gzip');
      assert.equal(file.contentType, 'text/csv');
      assert.match(file.name, /\.csv\.gz$/);
    }
  }

  test('a 3-file export: progress is a number while in progress, then every file is stored as served', async () => {
    sim.mytracker.config.exportDurationMs = 4000;
    const started = await runCli(['export', 'mytracker', '--segment', '5', '--fields', 'idDevice,tsInstall'], env);
    assert.equal(started.code, 0, started.stderr);
    const workflowId = started.stdout.trim();
    assert.match(workflowId, /^export-mytracker-segment-5-/);
    const progress = await waitFor('a vendor percent from "In progress"', async () => {
      const p = (await client.status(workflowId)).progress;
      return p?.phase === 'waiting' && typeof p.vendorPercent === 'number' && p.vendorPercent > 0 ? p : undefined;
    });
    assert.equal(progress.vendorStatus, 'In progress');

    const res = await runCli(['result', workflowId, '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout);
    assert.equal(manifest.provider, 'mytracker');
    assert.equal(manifest.remote.attempts, 1);
    assert.equal(manifest.remote.id, sim.mytracker.exports()[0]!.id);
    assert.equal(manifest.files.length, 3);
    assert.deepEqual(
      manifest.files.map((f: { name: string }) => Number(f.name.split('.')[1])),
      [1, 2, 3],
      'files listed in the vendor order',
    );
    assertFilesMatchServed(manifest, 5);
    assert.equal(manifest.totalRows, 3 * ROWS);
    const dir = path.join(env.EXPORT_DIR!, workflowId);
    assert.deepEqual(
      fs.readdirSync(dir).sort(),
      manifest.files.map((f: { name: string }) => f.name).sort(),
      'no .part left',
    );
    assert.deepEqual(sim.mytracker.exports()[0]!.query, {
      idSegment: '5',
      includeHeaderLine: '1',
      requestFields: 'idDevice,tsInstall',
    });
    assert.equal(mt('create'), 1);
    assert.equal(mt('download'), 3);
    const requests = sim.requests.filter((r) => r.vendor === 'mytracker');
    assert.ok(requests.every((r) => r.status === 200));
    assert.ok(
      requests.filter((r) => r.endpoint !== 'download').every((r) => r.hadAuthorization && !r.storageHost),
      'every API call signed',
    );
    assert.ok(
      requests.filter((r) => r.endpoint === 'download').every((r) => r.storageHost && !r.hadAuthorization),
      'files fetched from the storage host, without AuthHMAC',
    );
  });

  test('header in every file (the other reading) still counts exactly', async () => {
    sim.mytracker.config.headerInEveryFile = true;
    const { res, out } = await exportWait(['--segment', '22']);
    assert.equal(res.code, 0, res.stderr);
    assertFilesMatchServed(out, 22);
    assert.equal(out.totalRows, 3 * ROWS);
  });

  test('seed 004 links on the API host that redirect to storage: signed there, credentials dropped at the hop', async () => {
    Object.assign(sim.mytracker.config, { storageHost: 'api', apiLinksRedirect: true });
    const { res, out } = await exportWait(['--segment', '23']);
    assert.equal(res.code, 0, res.stderr);
    assertFilesMatchServed(out, 23);
    const downloads = sim.requests.filter((r) => r.endpoint === 'download');
    assert.deepEqual(downloads.map((r) => [r.storageHost === true, r.hadAuthorization, r.status]).sort(), [
      [false, true, 302],
      [false, true, 302],
      [false, true, 302],
      [true, false, 200],
      [true, false, 200],
      [true, false, 200],
    ]);
  });

  test('a download cut short on the storage host resumes with Range there', async () => {
    // Slow enough that the activity heartbeats its progress before the cut, so the retry knows where to resume.
    sim.mytracker.config.downloadBytesPerSec = 2_000;
    sim.faults.add({ vendor: 'mytracker', endpoint: 'download', kind: 'truncate', afterBytes: 6_000, times: 1 });
    const { res, out } = await exportWait(['--segment', '24']);
    assert.equal(res.code, 0, res.stderr);
    // The resumed file was sent in two parts (200 cut short, then 206), so it is checked against the data set.
    for (const [k, file] of out.files.entries()) {
      const csv = zlib.gunzipSync(fs.readFileSync(file.path));
      assert.ok(csv.equals(csvBytesOf(`mytracker:24:${k}`, ROWS, { header: k === 0 })), `${file.name} is whole`);
      assert.equal(file.rows, ROWS);
    }
    const ranged = sim.requests.filter((r) => r.endpoint === 'download' && r.range);
    assert.ok(ranged.length >= 1 && ranged.every((r) => r.storageHost && !r.hadAuthorization), JSON.stringify(ranged));
    assert.equal(mt('create'), 1);
  });

  test('"Error occurred" that persists: the export is requested anew and completes with attempts 2', async () => {
    sim.mytracker.config.errorOccurredTimes = 1;
    const { res, out } = await exportWait(['--segment', '6']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(out.remote.attempts, 2);
    const [broken, second] = sim.mytracker.exports();
    assert.equal(out.remote.id, second!.id);
    assert.equal(mt('create'), 2);
    const errorPolls = sim.requests.filter((r) => r.endpoint === 'get' && r.path.endsWith(`=${broken!.id}`));
    assert.ok(errorPolls.length >= 3, `the broken export was polled ${errorPolls.length} times before giving up on it`);
    assert.equal(out.files.length, 3);
    assertFilesMatchServed(out, 6);
  });

  test('a passing "Error occurred" is waited out without a new export', async () => {
    sim.mytracker.config.transientErrorPolls = 2;
    const { res, out } = await exportWait(['--segment', '7']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(out.remote.attempts, 1);
    assert.equal(mt('create'), 1);
  });

  test('links found expired are refreshed by polling get.json again, without a new export', async () => {
    sim.mytracker.config.linkTtlSec = -1;
    const started = await runCli(['export', 'mytracker', '--segment', '8'], env);
    assert.equal(started.code, 0, started.stderr);
    // The first "Success!" hands out links that are already expired; the next poll gets good ones.
    await waitFor(
      'the first (expired) links',
      () => sim.mytracker.exports()[0]?.files[0]?.expiresAt !== undefined,
      60_000,
      5,
    );
    sim.mytracker.config.linkTtlSec = 3600;
    const res = await runCli(['result', started.stdout.trim(), '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout);
    assert.equal(manifest.remote.attempts, 1);
    assert.equal(mt('create'), 1);
    const downloads = sim.requests.filter((r) => r.endpoint === 'download');
    assert.equal(downloads.length, 3, 'an expired link is not even tried');
    assert.ok(downloads.every((r) => r.status === 200));
    assertFilesMatchServed(manifest, 8);
  });

  test('a link refused at download (410) is refreshed once for all files, without a new export', async () => {
    sim.faults.add({ vendor: 'mytracker', endpoint: 'download', kind: 'status', status: 410 });
    const { res, out } = await exportWait(['--segment', '9']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(out.remote.attempts, 1);
    assert.equal(mt('create'), 1);
    assert.equal(sim.requests.filter((r) => r.endpoint === 'download' && r.status === 410).length, 1);
    assertFilesMatchServed(out, 9);
  });

  test('a wrong secret fails fast with a clear message and a single request', async () => {
    const secret = sim.mytracker.config.secret;
    sim.mytracker.config.secret = 'rotated-by-someone-else';
    try {
      const t0 = Date.now();
      const { res, out } = await exportWait(['--segment', '11']);
      const seconds = (Date.now() - t0) / 1000;
      assert.equal(res.code, 1, res.stderr);
      assert.equal(out.status, 'failed');
      assert.equal(out.error.type, FAILURE_TYPES.auth);
      assert.match(out.error.message, /myTracker create\.json: Access denied \(HTTP 403\).*MYTRACKER_API_SECRET/);
      assert.equal(mt(), 1, 'no retries: one signed call, one 403');
      assert.ok(seconds < 20, `failed after ${seconds}s`);
    } finally {
      sim.mytracker.config.secret = secret;
    }
  });

  test('"User error occurred" and "Canceled by user" fail the export with those words', async () => {
    sim.mytracker.config.userError = 'Segment is too large';
    const user = await exportWait(['--segment', '12']);
    assert.equal(user.res.code, 1);
    assert.equal(user.out.error.type, FAILURE_TYPES.jobFailed);
    assert.match(user.out.error.message, /User error occurred: Segment is too large/);
    delete sim.mytracker.config.userError;
    sim.mytracker.config.canceled = true;
    const canceled = await exportWait(['--segment', '13']);
    assert.equal(canceled.res.code, 1);
    assert.match(canceled.out.error.message, /Canceled by user/);
    assert.equal(mt('create'), 2, 'a final vendor status is not requested again');
  });

  test('--export-id takes over an existing export; an unknown one fails with the vendor detail', async () => {
    const existing = await runCli(['export', 'mytracker', '--segment', '14', '--id', `mt-create-${process.pid}`], env);
    const first = JSON.parse((await runCli(['result', existing.stdout.trim(), '--json'], env)).stdout);
    const { res, out } = await exportWait(['--export-id', first.remote.id]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(out.remote.id, first.remote.id);
    assert.equal(out.remote.attempts, 1);
    assert.equal(mt('create'), 1, 'taking over creates nothing');
    assert.deepEqual(
      out.files.map((f: { sha256: string }) => f.sha256),
      first.files.map((f: { sha256: string }) => f.sha256),
    );

    const unknown = await exportWait(['--export-id', '987654']);
    assert.equal(unknown.res.code, 1);
    assert.equal(unknown.out.error.type, FAILURE_TYPES.request);
    assert.match(unknown.out.error.message, /export 987654 not found \(HTTP 404\): "Segment export request not found"/);
    assert.equal(sim.requests.filter((r) => r.path.endsWith('=987654')).length, 1, 'a 404 is not retried');
  });

  test('--export-id with a persistent "Error occurred" fails clearly instead of creating an export', async () => {
    sim.mytracker.config.errorOccurredTimes = 1;
    // The broken export is made by a signed call of the test's own, as another tool of the user's would.
    const url = `${sim.url}/api/segment/v1/export/create.json?idSegment=15`;
    const auth = mytrackerAuthorization(sim.credentials.mytrackerUserId, sim.credentials.mytrackerSecret, 'POST', url);
    const made = await fetch(url, { method: 'POST', headers: { authorization: auth } });
    const id = ((await made.json()) as { data: { idSegmentExport: string } }).data.idSegmentExport;
    const { res, out } = await exportWait(['--export-id', id]);
    assert.equal(res.code, 1);
    assert.equal(out.error.type, FAILURE_TYPES.jobFailed);
    assert.match(out.error.message, /Error occurred.*--export-id.*--segment/);
    assert.equal(mt('create'), 1, 'only the test created an export');
  });

  test('bad input exits 2 naming the flag and starts nothing', async () => {
    const { count: before } = await client.temporal.workflow.count(`TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"`);
    const cases: [string[], RegExp][] = [
      [[], /--segment: required, unless --export-id names an existing export/],
      [['--segment', '5', '--export-id', '7'], /--export-id: give either --segment or --export-id, not both/],
      [['--segment', 'abc'], /--segment: expected a positive integer/],
      [['--segment', '0'], /--segment: expected a positive integer/],
      [['--export-id', '12x'], /--export-id: expected a positive integer/],
      [['--export-id', '7', '--fields', 'a'], /--fields: only applies when the export is created \(--segment\)/],
      [['--segment', '5', '--fields', 'bad field'], /--fields/],
    ];
    for (const [args, message] of cases) {
      const res = await runCli(['export', 'mytracker', ...args], env);
      assert.equal(res.code, 2, `${args.join(' ')} -> ${res.code}: ${res.stderr}`);
      assert.match(res.stderr, message, args.join(' '));
    }
    const { count: after } = await client.temporal.workflow.count(`TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"`);
    assert.equal(after, before);
    assert.equal(mt(), 0);
  });

  test('a 429 is retried after its Retry-After', async () => {
    sim.faults.add({
      vendor: 'mytracker',
      endpoint: 'get',
      kind: 'status',
      status: 429,
      headers: { 'Retry-After': '2' },
      body: { code: 429, message: 'Too Many Requests', data: { error: { detail: 'Request limit exceeded' } } },
    });
    const { res, out } = await exportWait(['--segment', '16']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(out.remote.attempts, 1);
    const gets = sim.requests.filter((r) => r.endpoint === 'get');
    const limited = gets.findIndex((r) => r.status === 429);
    assert.ok(limited >= 0);
    const waited = gets[limited + 1]!.at - gets[limited]!.at;
    assert.ok(waited >= 1900, `next get.json came ${waited} ms after the 429`);
  });

  test('no secret, signature or AuthHMAC header appears in any workflow history or worker log', async () => {
    await exportWait(['--segment', '17']);
    const { mytrackerUserId: userId, mytrackerSecret: secret } = sim.credentials;
    // Every signature the simulator accepted in this test: the requests are GETs/POSTs with empty bodies.
    const signatures = sim.requests
      .filter((r) => r.vendor === 'mytracker')
      .map((r) => mytrackerAuthorization(userId, secret, r.method, `${sim.url}${r.path}`).split(':')[1]!);
    assert.ok(signatures.length >= 5);
    const forbidden = [secret, 'AuthHMAC', ...signatures];
    let histories = 0;
    for await (const wf of client.temporal.workflow.list({ query: `TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"` })) {
      const history = await client.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      // Payload bytes come back base64-encoded (or as bytes): decode them, or a search for a secret proves nothing.
      const text = JSON.stringify(history, (k, v) => {
        if (k === 'data' && typeof v === 'string') return Buffer.from(v, 'base64').toString('utf8');
        if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
        if (v?.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data).toString('utf8');
        return v;
      });
      assert.match(
        text,
        /"(segmentId|exportId)\\?"/,
        `the input of ${wf.workflowId} is readable: ${text.slice(0, 300)}`,
      );
      for (const needle of forbidden)
        assert.equal(text.includes(needle), false, `${needle} in history of ${wf.workflowId}`);
      histories++;
    }
    assert.ok(histories >= 1, `checked ${histories} histories`);
    const logs = worker.logs();
    console.log(`secrets: checked ${histories} histories and ${logs.length} bytes of worker logs`);
    assert.ok(logs.includes('mytracker export requested'));
    for (const needle of forbidden) assert.equal(logs.includes(needle), false, `${needle} in worker logs`);
  });

  test('two workers polling four exports every 100 ms stay inside 10 requests/s and 100/min', async () => {
    // Demand: 4 exports x 10 polls/s = 40 requests/s for over a minute. The task-queue rate limit must cap it.
    sim.mytracker.config.exportDurationMs = 65_000;
    const eager = { ...env, EXPORTFLOW_POLL_INITIAL: '100ms', EXPORTFLOW_POLL_MAX: '100ms' };
    const second = spawnWorker(env);
    try {
      await second.ready;
      const results = await Promise.all(
        [18, 19, 20, 21].map((segment) =>
          runCli(['export', 'mytracker', '--segment', String(segment), '--wait', '--json'], eager, 180_000),
        ),
      );
      for (const res of results) {
        assert.equal(res.code, 0, res.stderr);
        assert.equal(JSON.parse(res.stdout).files.length, 3);
      }
      const times = sim.requests.filter((r) => r.vendor === 'mytracker').map((r) => r.at);
      const maxIn = (spanMs: number) =>
        Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + spanMs).length));
      const [perSecond, per10s, perMinute] = [maxIn(1000), maxIn(10_000), maxIn(60_000)];
      const spanS = (Math.max(...times) - Math.min(...times)) / 1000;
      console.log(
        `quota: ${times.length} requests over ${spanS.toFixed(1)} s; max ${perSecond} in any 1 s, ` +
          `${per10s} in any 10 s, ${perMinute} in any 60 s`,
      );
      assert.ok(perSecond <= 10, `${perSecond} requests in one second`);
      assert.ok(perMinute <= 100, `${perMinute} requests in one minute`);
      assert.ok(spanS >= 60, 'the demand lasted over a minute, so the per-minute window was really tested');
      assert.equal(sim.requests.filter((r) => r.status === 429).length, 0, 'the simulator never had to say 429');
      assert.ok(second.logs().includes('"activity":"mytracker'), 'the second worker took a share of the work');
    } finally {
      await second.kill('SIGTERM');
    }
  });
});
