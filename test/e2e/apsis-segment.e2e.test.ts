import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ExportClient } from '../../src/client';
import { XLSX_TYPE, csvBytesOf, type Simulator } from '../../src/simulator';
import { APSIS_DEFAULTS } from '../../src/simulator/apsis';
import { SIM_ACCESS_TOKEN, historyText } from '../helpers/apsis';
import { startStack, type TestStack } from '../helpers/stack';
import { runCli, type CliResult, type WorkerProcess } from '../helpers/processes';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * APSIS One profiles-in-segment report end to end: the CLI starts exports on a real Temporal dev server, a
 * worker process polls the simulator's report URL over HTTP and stores the file; stored bytes are compared with
 * what the simulator served.
 */
describe('apsis-segment export end to end', () => {
  let stack: TestStack;
  let sim: Simulator;
  let env: Record<string, string>;
  let worker: WorkerProcess;
  let client: ExportClient;
  const outputs: string[] = [];

  const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
  const args = (...extra: string[]) => [
    'export',
    'apsis-segment',
    '--section',
    'com.example.section',
    '--segment',
    'com.example.segment.vip',
    ...extra,
  ];
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
  const polls = () => sim.requests.filter((r) => r.vendor === 'apsis' && r.endpoint === 'poll');

  before(async () => {
    stack = await startStack('apsis-seg', { sim: { apsis: { reportReadyAfterMs: 700 } } });
    ({ sim, env, client } = stack);
    worker = stack.workers[0]!;
  });

  after(async () => {
    await stack?.stop();
  });

  beforeEach(() => {
    sim.reset();
    Object.assign(sim.apsis.config, { ...APSIS_DEFAULTS, reportReadyAfterMs: 700 });
  });

  test('given a v2 poll URL, 202 until ready, then the CSV is stored byte for byte with its row count', async () => {
    const manifest = await completed(
      args('--segment', 'com.example.segment.new', '--attribute', 'email', '--tag', 'vip'),
    );
    assert.equal(manifest.provider, 'apsis-segment');
    assert.equal(manifest.status, 'completed');
    assert.equal(manifest.remote.attempts, 1);
    const [report] = sim.apsis.reports();
    assert.equal(manifest.remote.id, report!.id);
    assert.deepEqual(report!.request, {
      section_discriminator: 'com.example.section',
      segments: {
        segment_discriminators: { s1: 'com.example.segment.vip', s2: 'com.example.segment.new' },
        filter: 's1 | s2',
      },
      attributes: ['email'],
      tags: ['vip'],
    });
    const served = sim.served().filter((f) => f.vendor === 'apsis');
    assert.equal(served.length, 1);
    const [file] = manifest.files;
    assert.equal(file.name, 'segment-report.csv');
    assert.equal(file.sha256, served[0]!.sha256);
    assert.equal(file.bytes, served[0]!.bytes);
    assert.equal(file.rows, 50);
    assert.equal(manifest.totalRows, 50);
    assert.equal(file.encoding, null);
    assert.equal(file.contentType, 'text/csv');
    const onDisk = fs.readFileSync(file.path);
    assert.ok(onDisk.equals(csvBytesOf(report!.seed, 50)), 'the stored bytes are the report');
    assert.equal(path.dirname(file.path), path.join(env.EXPORT_DIR!, manifest.workflowId));
    assert.deepEqual(fs.readdirSync(path.dirname(file.path)), ['segment-report.csv'], 'no .part file left');
    assert.ok(
      polls().some((p) => p.status === 202),
      'polled while not ready',
    );
    assert.equal(polls().at(-1)!.status, 200);
    assert.ok(
      polls().every((p) => p.hadAuthorization),
      'every poll carried the bearer token',
    );
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'segment-report' }), 1);
  });

  test('given older poll URLs (file_download_url, poll_url), 404 means not ready and the file still arrives', async () => {
    for (const kind of ['v1', 'poll_url'] as const) {
      sim.reset();
      sim.apsis.config.pollUrlKind = kind;
      const manifest = await completed(args());
      assert.ok(
        polls().some((p) => p.status === 404),
        `${kind}: 404 while not ready`,
      );
      assert.equal(manifest.files[0].sha256, sim.served()[0]!.sha256, kind);
      assert.equal(manifest.files[0].rows, 50);
      assert.equal(manifest.remote.attempts, 1);
    }
  });

  test('--format csv.gz asks for gzip, stores the gzip bytes as .csv.gz and counts the decompressed rows', async () => {
    const manifest = await completed(args('--format', 'csv.gz'));
    const served = sim.served().filter((f) => f.vendor === 'apsis');
    assert.equal(served.length, 1);
    assert.equal(served[0]!.encoding, 'gzip');
    const [file] = manifest.files;
    assert.equal(file.name, 'segment-report.csv.gz');
    assert.equal(file.encoding, 'gzip');
    assert.equal(file.sha256, served[0]!.sha256, 'the stored file is the gzip stream that was served');
    const onDisk = fs.readFileSync(file.path);
    assert.equal(sha256(onDisk), served[0]!.sha256);
    assert.equal(onDisk.length, served[0]!.bytes);
    assert.ok(gunzipSync(onDisk).equals(csvBytesOf(sim.apsis.reports()[0]!.seed, 50)));
    assert.equal(file.rows, 50);
  });

  test('--format xlsx sends the XLSX Accept header and stores the workbook as .xlsx (rows unknown)', async () => {
    const manifest = await completed(args('--format', 'xlsx'));
    const served = sim.served().filter((f) => f.vendor === 'apsis');
    assert.equal(served[0]!.contentType, XLSX_TYPE);
    const [file] = manifest.files;
    assert.equal(file.name, 'segment-report.xlsx');
    assert.equal(file.contentType, XLSX_TYPE);
    assert.equal(file.sha256, served[0]!.sha256);
    const onDisk = fs.readFileSync(file.path);
    assert.equal(sha256(onDisk), served[0]!.sha256);
    assert.equal(onDisk.subarray(0, 4).toString('binary'), 'PK\x03\x04');
    assert.equal(file.rows, null);
    assert.equal(manifest.totalRows, null);
  });

  test('given 410 for the first report, a new report is requested and remote.attempts is 2', async () => {
    sim.apsis.config.goneFirstReports = 1;
    const manifest = await completed(args());
    assert.equal(manifest.remote.attempts, 2);
    assert.equal(sim.apsis.reports().length, 2);
    assert.ok(polls().some((p) => p.status === 410));
    assert.equal(manifest.remote.id, sim.apsis.reports()[1]!.id);
    assert.equal(manifest.files[0].sha256, sim.served().at(-1)!.sha256);
    assert.deepEqual(fs.readdirSync(path.dirname(manifest.files[0].path)), ['segment-report.csv']);
  });

  test('given 503 (processing failed) for the first report, a new report is requested and completes', async () => {
    sim.apsis.config.failFirstReports = 1;
    const manifest = await completed(args('--format', 'csv.gz'));
    assert.equal(manifest.remote.attempts, 2);
    assert.ok(polls().some((p) => p.status === 503));
    assert.equal(manifest.files[0].sha256, sim.served().at(-1)!.sha256);
  });

  test('given 413 (too many columns), the export fails at once telling the user to ask for fewer attributes/tags', async () => {
    const many = Array.from({ length: 51 }, (_, i) => ['--attribute', `attr.${i}`]).flat();
    const res = await run([...args(...many), '--wait', '--json']);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.error.type, FAILURE_TYPES.request);
    assert.match(out.error.message, /HTTP 413.*ask for fewer attributes and tags/);
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'segment-report' }), 1, 'a final error is not retried');
  });

  test('given a v2 URL that answers 404 (invalid id), the export fails instead of polling on', async () => {
    sim.faults.add({ vendor: 'apsis', endpoint: 'poll', kind: 'status', status: 404, times: 1 });
    const res = await run([...args(), '--wait', '--json']);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.error.type, FAILURE_TYPES.response);
    assert.match(out.error.message, /invalid \(HTTP 404\)/);
    assert.equal(polls().length, 1);
  });

  test('given a poll URL whose validity ends before the report is ready, the export fails clearly', async () => {
    Object.assign(sim.apsis.config, { reportReadyAfterMs: 600_000, pollUrlValidityMs: 2_500 });
    const started = Date.now();
    const res = await run([...args(), '--wait', '--json']);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.error.type, FAILURE_TYPES.timeout);
    assert.match(out.error.message, /was not ready before its poll URL expired/);
    assert.equal(sim.apsis.reports().length, 1, 'an expired URL is not a reason to poll or request forever');
    assert.ok(Date.now() - started < 60_000);
  });

  test('given an access token that stopped working, the worker gets a new one once and completes', async () => {
    sim.apsis.expireTokens();
    const manifest = await completed(args());
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'token' }), 1, 'one new token');
    assert.equal(sim.requests.filter((r) => r.vendor === 'apsis' && r.status === 401).length, 1);
    assert.equal(manifest.files[0].sha256, sim.served()[0]!.sha256);
  });

  test('given a token endpoint that refuses the client (401), the export fails with a clear auth error', async () => {
    sim.apsis.expireTokens();
    sim.faults.add({
      vendor: 'apsis',
      endpoint: 'token',
      kind: 'status',
      status: 401,
      body: { error: 'invalid_client' },
    });
    const res = await run([...args(), '--wait', '--json']);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.error.type, FAILURE_TYPES.auth);
    assert.match(out.error.message, /oauth\/token refused the client credentials \(HTTP 401\); check APSIS_CLIENT_ID/);
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'token' }), 1, 'not retried');
  });

  test('given a token endpoint over its limit (429 + Retry-After), the export waits and completes', async () => {
    sim.apsis.expireTokens();
    sim.faults.add({
      vendor: 'apsis',
      endpoint: 'token',
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '1' },
    });
    const manifest = await completed(args());
    assert.deepEqual(
      sim.requests.filter((r) => r.endpoint === 'token').map((r) => r.status),
      [429, 200],
    );
    assert.equal(manifest.files[0].sha256, sim.served()[0]!.sha256);
  });

  test('given bad input, the CLI exits 2 naming the flag and starts nothing', async () => {
    const queue = `TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"`;
    const before = (await client.temporal.workflow.count(queue)).count;
    const cases: [string[], RegExp][] = [
      [['export', 'apsis-segment', '--segment', 'a'], /--section: required/],
      [['export', 'apsis-segment', '--section', 's'], /--segment: required/],
      [
        ['export', 'apsis-segment', '--section', 's', '--segment', 'a', '--format', 'pdf'],
        /--format: expected "csv", "csv.gz" or "xlsx"/,
      ],
      [
        ['export', 'apsis-segment', '--section', ' ', '--segment', 'a'],
        /--section: expected a non-empty section discriminator/,
      ],
      [['export', 'apsis-segment', '--section', 's', '--segment', 'a', 'a'], /--segment: a segment is listed twice/],
    ];
    for (const [cliArgs, message] of cases) {
      const res = await run(cliArgs);
      assert.equal(res.code, 2, `${cliArgs.join(' ')} -> ${res.code}: ${res.stderr}`);
      assert.match(res.stderr, message, cliArgs.join(' '));
    }
    assert.equal((await client.temporal.workflow.count(queue)).count, before);
    assert.equal(sim.count({ vendor: 'apsis' }), 0);
  });

  test('given named segments and a filter over the names, the report body carries both as written', async () => {
    const manifest = await completed([
      'export',
      'apsis-segment',
      '--section',
      'com.example.section',
      '--segment',
      'europe=com.example.segment.europe',
      'women=com.example.segment.women',
      '--filter',
      '!(europe) & women',
    ]);
    assert.equal(manifest.totalRows, 50);
    assert.deepEqual(sim.apsis.reports()[0]!.request.segments, {
      segment_discriminators: { europe: 'com.example.segment.europe', women: 'com.example.segment.women' },
      filter: '!(europe) & women',
    });
    assert.equal(manifest.remote.total, null, 'APSIS reports no count of its own');
    assert.equal(manifest.rowsMatchVendor, null);
  });

  test('given a filter that names no given segment or does not parse, the CLI exits 2 before anything starts', async () => {
    const cases: [string[], RegExp][] = [
      [args('--filter', 'com.example.segment.vip'), /--filter: not a valid filter expression: unexpected "\."/],
      [args('--filter', 'vip'), /--filter: refers to "vip", which is not a segment name; the names are s1/],
      [args('--filter', 's1 &'), /--filter: not a valid filter expression: expected a segment name/],
      [args('--filter', 's1 = 1'), /--filter: not a valid filter expression: unexpected "="/],
      [args('--segment', 'bad name=com.example.segment.x'), /--segment.*must be a simple word/],
      [args('--segment', 's1=com.example.segment.x'), /--segment.*"s1" is used twice/],
    ];
    for (const [cliArgs, message] of cases) {
      const res = await run(cliArgs);
      assert.equal(res.code, 2, `${cliArgs.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message, cliArgs.join(' '));
    }
    assert.equal(sim.count({ vendor: 'apsis' }), 0);
  });

  test('given a 400 from APSIS naming a body field, the export fails at once quoting APSIS', async () => {
    sim.faults.add({
      vendor: 'apsis',
      endpoint: 'segment-report',
      kind: 'status',
      status: 400,
      body: {
        type: 'about:blank',
        title: 'One or more validation errors occurred.',
        status: 400,
        errors: { 'segments.filter': ["Unknown operator 'XOR'."] },
      },
    });
    const res = await run([...args(), '--wait', '--json']);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.error.type, FAILURE_TYPES.request);
    assert.match(
      out.error.message,
      /rejected the report request body \(HTTP 400\): APSIS says "segments.filter: Unknown operator 'XOR'."/,
    );
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'segment-report' }), 1, 'not retried');
  });

  test('no access token or client secret appears in any history, worker log line or CLI output', async () => {
    const secret = sim.credentials.apsisClientSecret;
    let histories = 0;
    for await (const wf of client.temporal.workflow.list({ query: `TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"` })) {
      const text = await historyText(client.temporal, wf.workflowId, wf.runId);
      assert.ok(text.includes('\\"section\\":\\"com.example.section\\"'), 'payloads were decoded');
      assert.equal(text.includes(secret), false, `client secret in history of ${wf.workflowId}`);
      assert.doesNotMatch(text, SIM_ACCESS_TOKEN, `access token in history of ${wf.workflowId}`);
      assert.doesNotMatch(text, /bearer\s+\S/i);
      histories++;
    }
    assert.ok(histories >= 10, `checked ${histories} histories`);
    const logs = worker.logs();
    assert.ok(logs.includes('apsis segment report requested'));
    assert.equal(logs.includes(secret), false, 'client secret in worker logs');
    assert.doesNotMatch(logs, SIM_ACCESS_TOKEN, 'access token in worker logs');
    const printed = outputs.join('\n');
    assert.equal(printed.includes(secret), false);
    assert.doesNotMatch(printed, SIM_ACCESS_TOKEN);
  });
});
