import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ExportClient, ROW_COUNT_MISMATCH } from '../../src/client';
import { type Simulator } from '../../src/simulator';
import { startStack, type TestStack } from '../helpers/stack';
import { historyText } from '../helpers/history';
import { runCli, waitFor, type WorkerProcess } from '../helpers/processes';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * Altcraft end to end: the CLI starts exports on a real Temporal dev server, a separate worker process runs
 * them against the simulator over HTTP on 127.0.0.1, and the stored files are compared with what was served.
 */
describe('altcraft export end to end', () => {
  let stack: TestStack;
  let sim: Simulator;
  let env: Record<string, string>;
  let worker: WorkerProcess;
  let client: ExportClient;

  before(async () => {
    stack = await startStack('altcraft', { sim: { altcraft: { taskDurationMs: 600 } } });
    ({ sim, env, client } = stack);
    worker = stack.workers[0]!;
  });

  after(async () => {
    await stack?.stop();
  });

  beforeEach(() => {
    sim.reset();
    Object.assign(sim.altcraft.config, {
      statusWord: 'completed',
      inFlightWord: 'in progress',
      downloadAuth: 'either',
      totalOffset: 0,
      filesPerTask: 1,
    });
  });

  const exportArgs = (id: number) => ['export', 'altcraft', '--source-type', 'database', '--source-id', String(id)];

  async function workflowsInQueue(): Promise<number> {
    const { count } = await client.temporal.workflow.count(`TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"`);
    return count;
  }

  test('given a database, export --wait --json stores the served file byte for byte and prints its manifest', async () => {
    const res = await runCli([...exportArgs(7), '--wait', '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout);
    assert.equal(manifest.provider, 'altcraft');
    assert.equal(manifest.status, 'completed');
    assert.equal(manifest.remote.attempts, 1);
    assert.equal(manifest.files.length, 1);
    const served = sim.served().filter((f) => f.vendor === 'altcraft');
    assert.equal(served.length, 1);
    const [file] = manifest.files;
    assert.equal(file.sha256, served[0]!.sha256);
    assert.equal(file.bytes, served[0]!.bytes);
    assert.equal(file.rows, 107, 'rows: 100 + source id, header excluded, quoted newlines not counted');
    assert.equal(manifest.totalRows, 107);
    assert.equal(file.encoding, null);
    assert.equal(file.contentType, 'text/csv');
    assert.equal(path.dirname(file.path), path.join(env.EXPORT_DIR!, manifest.workflowId));
    const onDisk = fs.readFileSync(file.path);
    assert.equal(crypto.createHash('sha256').update(onDisk).digest('hex'), served[0]!.sha256);
    assert.deepEqual(fs.readdirSync(path.dirname(file.path)), [file.name], 'no .part file left behind');
    assert.equal(sim.count({ vendor: 'altcraft', endpoint: 'get_all' }), 1);
    assert.match(res.stderr, /vendor job task_/, 'progress shown on stderr');
  });

  test('given the Russian-page status word "success", the export completes the same way', async () => {
    sim.altcraft.config.statusWord = 'success';
    const res = await runCli([...exportArgs(3), '--wait', '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout);
    assert.equal(manifest.files[0].sha256, sim.served()[0]!.sha256);
    assert.equal(manifest.totalRows, 103);
  });

  test('without --wait it prints the workflow id; status and result then follow that export', async () => {
    const started = await runCli(exportArgs(2), env);
    assert.equal(started.code, 0, started.stderr);
    const workflowId = started.stdout.trim();
    assert.match(workflowId, /^export-altcraft-database-2-/);
    const status = await runCli(['status', workflowId, '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).workflowId, workflowId);
    const result = await runCli(['result', workflowId, '--json'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).workflowId, workflowId);
    const done = JSON.parse((await runCli(['status', workflowId, '--json'], env)).stdout);
    assert.equal(done.execution, 'COMPLETED');
    assert.equal(done.manifest.files[0].sha256, sim.served()[0]!.sha256);
  });

  test('given bad input, the CLI exits 2 naming the field and starts no workflow', async () => {
    const before = await workflowsInQueue();
    const cases: [string[], RegExp][] = [
      [['export', 'altcraft', '--source-type', 'database'], /--source-id/],
      [
        ['export', 'altcraft', '--source-type', 'foo', '--source-id', '1'],
        /--source-type: expected "database" or "segment"/,
      ],
      [
        ['export', 'altcraft', '--source-type', 'database', '--source-id', 'abc'],
        /--source-id: expected a positive integer/,
      ],
      [['export', 'altcraft', '--source-type', 'database', '--source-id', '-4'], /--source-id/],
      [
        ['export', 'altcraft', '--source-type', 'database', '--source-id', '1', '--filter', '[1,2]'],
        /--filter: expected a JSON object/,
      ],
      [
        ['export', 'altcraft', '--source-type', 'database', '--source-id', '1', '--filter', '{nope'],
        /--filter: expected a JSON object/,
      ],
      [['export', 'altcraft', '--source-type', 'database', '--source-id', '1', '--format', 'xml'], /--format/],
      [['export', 'altcraft', '--source-type', 'database', '--source-id', '1', '--id', '../etc'], /--id/],
      [['export', 'nosuchvendor'], /unknown command|nosuchvendor/],
    ];
    for (const [args, message] of cases) {
      const res = await runCli(args, env);
      assert.equal(res.code, 2, `${args.join(' ')} -> ${res.code}: ${res.stderr}`);
      assert.match(res.stderr, message, args.join(' '));
    }
    assert.equal(await workflowsInQueue(), before);
    assert.equal(sim.count({ vendor: 'altcraft' }), 0);
  });

  test('given a rejected token (error in a 200 body), the export fails at once with AltcraftError and the vendor text', async () => {
    sim.faults.add({
      vendor: 'altcraft',
      endpoint: 'get_all',
      kind: 'json',
      body: { data: null, error: 3, error_text: 'Invalid token' },
    });
    const res = await runCli([...exportArgs(1), '--wait', '--json'], env);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.status, 'failed');
    assert.equal(out.error.type, FAILURE_TYPES.altcraft);
    assert.match(out.error.message, /error 3 "Invalid token"/);
    assert.equal(sim.count({ vendor: 'altcraft', endpoint: 'get_all' }), 1, 'a final error is not retried');
  });

  test('given 429 with Retry-After and 5xx on status polls, the export still completes with one vendor task', async () => {
    sim.faults.add({
      vendor: 'altcraft',
      endpoint: 'get_all',
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '1' },
    });
    sim.faults.add({ vendor: 'altcraft', endpoint: 'status', kind: 'status', status: 503, times: 2 });
    const res = await runCli([...exportArgs(4), '--wait', '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout);
    assert.equal(manifest.remote.attempts, 1);
    assert.equal(sim.altcraft.tasks().length, 1, 'exactly one task created on the vendor');
    assert.equal(sim.count({ vendor: 'altcraft', endpoint: 'get_all' }), 2, 'one 429, one success');
    assert.equal(manifest.files[0].sha256, sim.served()[0]!.sha256);
  });

  test('given a download link that is gone, a new task is requested and remote.attempts is 2', async () => {
    sim.faults.add({ vendor: 'altcraft', endpoint: 'download', kind: 'status', status: 410 });
    const res = await runCli([...exportArgs(5), '--wait', '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout);
    assert.equal(manifest.remote.attempts, 2);
    assert.equal(sim.altcraft.tasks().length, 2);
    assert.equal(manifest.files[0].sha256, sim.served().at(-1)!.sha256);
  });

  test('given a task that fails on Altcraft, the export fails with the vendor status and text', async () => {
    sim.altcraft.config.failFirstTasks = 1;
    try {
      const res = await runCli([...exportArgs(6), '--wait', '--json'], env);
      assert.equal(res.code, 1, res.stderr);
      const out = JSON.parse(res.stdout);
      assert.equal(out.error.type, FAILURE_TYPES.jobFailed);
      assert.match(out.error.message, new RegExp(sim.altcraft.config.failWord));
      assert.match(res.stderr, /VendorJobFailed/);
    } finally {
      sim.altcraft.config.failFirstTasks = 0;
    }
  });

  test('cancel while waiting for the vendor: exit 1 "cancelled" and no files left', async () => {
    sim.altcraft.config.taskDurationMs = 60_000;
    try {
      const started = await runCli(exportArgs(8), env);
      const workflowId = started.stdout.trim();
      await waitFor('the export to poll', async () => (await client.status(workflowId)).progress?.polls);
      const cancel = await runCli(['cancel', workflowId], env);
      assert.equal(cancel.code, 0, cancel.stderr);
      const res = await runCli(['result', workflowId, '--json'], env);
      assert.equal(res.code, 1);
      assert.equal(JSON.parse(res.stdout).status, 'cancelled');
      assert.equal(fs.existsSync(path.join(env.EXPORT_DIR!, workflowId)), false);
    } finally {
      sim.altcraft.config.taskDurationMs = 600;
    }
  });

  test('given the undocumented running word "in progress", the export keeps polling, shows the word, and completes', async () => {
    sim.altcraft.config.taskDurationMs = 15_000;
    try {
      const started = await runCli(exportArgs(21), env);
      const workflowId = started.stdout.trim();
      await waitFor('a poll answered "in progress"', async () =>
        (await client.status(workflowId)).progress?.vendorStatus === 'in progress' ? true : undefined,
      );
      const status = await runCli(['status', workflowId], env);
      assert.match(status.stdout, /vendor job task_.*: in progress/);
      const res = await runCli(['result', workflowId, '--json'], env);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(JSON.parse(res.stdout).totalRows, 121);
      assert.ok(sim.count({ vendor: 'altcraft', endpoint: 'status' }) >= 2, 'polled more than once');
      assert.match(worker.logs(), /status word no page documents/);
    } finally {
      sim.altcraft.config.taskDurationMs = 600;
    }
  });

  test('given a v72 panel that takes only ?token=, Bearer is refused once and ?token= is used for every file', async () => {
    Object.assign(sim.altcraft.config, { downloadAuth: 'query', filesPerTask: 3 });
    const res = await runCli([...exportArgs(22), '--wait', '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout);
    assert.equal(manifest.files.length, 3);
    assert.equal(manifest.totalRows, 122);
    const downloads = sim.requests.filter((r) => r.vendor === 'altcraft' && r.endpoint === 'download');
    assert.deepEqual(
      downloads.map((r) => [r.status, r.hadAuthorization, r.path.includes('token=***')]),
      [
        [401, true, false],
        [200, false, true],
        [200, false, true],
        [200, false, true],
      ],
      'one refused Bearer try, then the remembered query form for all three files',
    );
    assert.equal(JSON.stringify(manifest).includes(sim.credentials.altcraftToken), false);
  });

  test('given a panel that takes only Bearer, no ?token= is ever sent', async () => {
    Object.assign(sim.altcraft.config, { downloadAuth: 'bearer', filesPerTask: 2 });
    const res = await runCli([...exportArgs(23), '--wait', '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const downloads = sim.requests.filter((r) => r.vendor === 'altcraft' && r.endpoint === 'download');
    assert.deepEqual(
      downloads.map((r) => [r.status, r.hadAuthorization, r.path.includes('token=')]),
      [
        [200, true, false],
        [200, true, false],
      ],
    );
  });

  test('given a token refused in both forms, the export fails as VendorAuthError without the token anywhere', async () => {
    sim.faults.add({ vendor: 'altcraft', endpoint: 'download', kind: 'status', status: 401, times: 2 });
    const res = await runCli([...exportArgs(24), '--wait', '--json'], env);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.error.type, FAILURE_TYPES.auth);
    assert.match(out.error.message, /both as an Authorization: Bearer header and as \?token=/);
    const token = sim.credentials.altcraftToken;
    assert.equal(res.stdout.includes(token) || res.stderr.includes(token), false);
    assert.equal(sim.count({ vendor: 'altcraft', endpoint: 'download' }), 2, 'one try per form, no retries');
  });

  test('manifest carries remote.total and rowsMatchVendor; a differing count is a warning in status', async () => {
    const ok = JSON.parse((await runCli([...exportArgs(25), '--wait', '--json'], env)).stdout);
    assert.equal(ok.remote.total, 125);
    assert.equal(ok.totalRows, 125);
    assert.equal(ok.rowsMatchVendor, true);

    sim.altcraft.config.totalOffset = 3;
    const res = await runCli([...exportArgs(26), '--wait', '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const skewed = JSON.parse(res.stdout);
    assert.equal(skewed.remote.total, 129);
    assert.equal(skewed.totalRows, 126);
    assert.equal(skewed.rowsMatchVendor, false);
    const status = JSON.parse((await runCli(['status', skewed.workflowId, '--json'], env)).stdout);
    assert.equal(status.manifest.rowsMatchVendor, false);
    assert.match(
      (await runCli(['status', skewed.workflowId], env)).stdout,
      /vendor says 129 \(MISMATCH\)[^]*warning: the vendor counted 129 records \(remote.total\) but the files hold 126 rows/,
    );
    assert.match(worker.logs(), /Altcraft reported 129 exported records/);
    assert.equal(fs.existsSync(skewed.files[0].path), true, 'without --require-total the files stay');
  });

  test('with --require-total a differing count fails as RowCountMismatch and removes the files', async () => {
    sim.altcraft.config.totalOffset = -1;
    const res = await runCli([...exportArgs(27), '--require-total', '--wait', '--json'], env);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.status, 'failed');
    assert.equal(out.error.type, ROW_COUNT_MISMATCH);
    assert.match(out.error.message, /reported 126 exported records but the stored files hold 127 data rows/);
    const dirs = fs.existsSync(env.EXPORT_DIR!) ? fs.readdirSync(env.EXPORT_DIR!) : [];
    assert.equal(
      dirs.some((d) => d.startsWith('export-altcraft-database-27-')),
      false,
      'files of the failed export removed',
    );

    sim.altcraft.config.totalOffset = 0;
    const { workflowId } = await client.start('altcraft', { sourceType: 'database', sourceId: 28, requireTotal: true });
    const manifest = await client.result(workflowId);
    assert.equal(manifest.rowsMatchVendor, true, 'requireTotal through ExportClient passes when the counts agree');
  });

  test('no token appears in any workflow history or worker log line', async () => {
    await runCli([...exportArgs(9), '--wait'], env);
    const token = sim.credentials.altcraftToken;
    let histories = 0;
    for await (const wf of client.temporal.workflow.list({ query: `TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"` })) {
      const history = await client.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const text = historyText(history);
      assert.ok(text.includes('sourceType'), 'history payloads were decoded (the input is readable)');
      assert.equal(text.includes(token), false, `token found in history of ${wf.workflowId}`);
      histories++;
    }
    assert.ok(histories >= 5, `checked ${histories} histories`);
    assert.ok(worker.logs().length > 0);
    assert.equal(worker.logs().includes(token), false, 'token found in worker logs');
  });
});
