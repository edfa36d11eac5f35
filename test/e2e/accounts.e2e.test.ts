import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { EXPORT_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { postJson, rawRequest } from '../../src/simulator/probe';
import { historyText } from '../helpers/history';
import { runCli, waitFor } from '../helpers/processes';
import { startStack, type TestStack } from '../helpers/stack';
import { freePort } from '../helpers/temporal';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * Named vendor accounts end to end (CONTRACT.md "Named vendor accounts"): one worker process serving the default
 * account and `eu`, each with its own credentials at the simulator; exports name the account with --account.
 */
describe('named vendor accounts end to end', () => {
  let stack: TestStack;

  before(async () => {
    const port = await freePort();
    stack = await startStack('accounts', {
      sim: { port, accounts: ['eu'], altcraft: { taskDurationMs: 800 }, mytracker: { exportDurationMs: 300 } },
      // `bad`: an Altcraft account whose token the panel refuses; `half`: a myTracker account missing its secret.
      env: {
        ALTCRAFT_BASE_URL__BAD: `http://127.0.0.1:${port}`,
        ALTCRAFT_TOKEN__BAD: 'not-the-panel-token',
        MYTRACKER_API_USER_ID__HALF: '5',
      },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  test('two Altcraft accounts with different tokens export at once; each lands, and ids are per account', async () => {
    const { sim, env, client } = stack;
    const eu = sim.accountCredentials('eu')!;
    const [plain, named] = await Promise.all([
      runCli(['export', 'altcraft', '--source-type', 'database', '--source-id', '11', '--wait', '--json'], env),
      runCli(
        ['export', 'altcraft', '--account', 'EU', '--source-type', 'database', '--source-id', '12', '--wait', '--json'],
        env,
      ),
    ]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(named.code, 0, named.stderr);
    const a = JSON.parse(plain.stdout);
    const b = JSON.parse(named.stdout);
    assert.match(b.workflowId, /^export-altcraft-eu-database-12-/);
    assert.doesNotMatch(a.workflowId, /-eu-/);
    for (const [manifest, rows] of [
      [a, 111],
      [b, 112],
    ] as const) {
      assert.equal(manifest.status, 'completed');
      assert.equal(manifest.totalRows, rows);
      assert.ok(fs.existsSync(manifest.files[0].path));
    }
    // The simulator saw each task created and read with its own account's token.
    const tasks = sim.altcraft.tasks();
    assert.equal(tasks.find((t) => t.sourceId === 11)?.account, 'default');
    assert.equal(tasks.find((t) => t.sourceId === 12)?.account, 'eu');
    const accountsOf = (subject: string) =>
      new Set(sim.requests.filter((r) => r.vendor === 'altcraft' && r.subject === subject).map((r) => r.account));
    assert.deepEqual([...accountsOf('database:11')], ['default']);
    assert.deepEqual([...accountsOf('database:12')], ['eu']);
    assert.ok(!sim.requests.some((r) => r.foreign), "the worker never used one account for another account's task");

    // The default account's token cannot read the eu task or its file: 'Task not found' and 404, as for any id.
    const euTask = b.remote.id as string;
    const status = await postJson(`${sim.url}/api/v1.1/tasks/status`, {
      token: sim.credentials.altcraftToken,
      task_id: euTask,
    });
    assert.equal(JSON.parse(status.body.toString()).error, 9);
    const file = tasks.find((t) => t.id === euTask)!.files[0]!.path;
    const foreign = await rawRequest(`${sim.url}${file}`, {
      headers: { authorization: `Bearer ${sim.credentials.altcraftToken}` },
    });
    assert.equal(foreign.status, 404);
    assert.equal(sim.requests.filter((r) => r.foreign).length, 2);

    // Only the account's name entered Temporal: ExportAccount is set, no token is in the history.
    const described = await client.temporal.workflow.getHandle(b.workflowId).describe();
    assert.equal(described.typedSearchAttributes.get(EXPORT_SEARCH_ATTRIBUTES.account), 'eu');
    const history = historyText(await client.temporal.workflow.getHandle(b.workflowId).fetchHistory());
    assert.ok(history.includes('"account":"EU"') || history.includes('"account":"eu"'));
    assert.ok(!history.includes(eu.altcraftToken) && !history.includes(sim.credentials.altcraftToken));
  });

  test('an account the worker has no credentials for fails at once, naming the variable, before any vendor call', async (t) => {
    const { sim, env, client } = stack;
    const before = sim.requests.filter((r) => r.vendor === 'altcraft').length;
    const started = Date.now();
    const res = await runCli(
      [
        'export',
        'altcraft',
        '--account',
        'nosuch',
        '--source-type',
        'database',
        '--source-id',
        '3',
        '--wait',
        '--json',
      ],
      env,
    );
    const tookMs = Date.now() - started;
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.status, 'failed');
    assert.equal(out.error.type, FAILURE_TYPES.workerMisconfigured);
    assert.match(out.error.message, /ALTCRAFT_TOKEN__NOSUCH is not set/);
    assert.ok(tookMs < 20_000, `took ${tookMs} ms`);
    const workflowId = /export (\S+) failed/.exec(res.stderr)?.[1] ?? '';
    const run = await client.temporal.workflow
      .getHandle(workflowId)
      .describe()
      .catch(() => undefined);
    const workflowMs = run?.closeTime ? run.closeTime.getTime() - run.startTime.getTime() : undefined;
    t.diagnostic(`unknown account: CLI exit after ${tookMs} ms, workflow start to close ${workflowMs ?? '?'} ms`);
    assert.equal(sim.requests.filter((r) => r.vendor === 'altcraft').length, before, 'no call reached Altcraft');
    // myTracker too: the same rule on every provider.
    const mt = await runCli(['export', 'mytracker', '--account', 'nosuch', '--segment', '5', '--wait', '--json'], env);
    assert.equal(mt.code, 1, mt.stderr);
    assert.match(JSON.parse(mt.stdout).error.message, /MYTRACKER_API_SECRET__NOSUCH is not set/);
  });

  test('a myTracker export runs on a named account with its own API user', async () => {
    const { sim, env } = stack;
    const res = await runCli(['export', 'mytracker', '--account', 'eu', '--segment', '21', '--wait', '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const exp = sim.mytracker.exports().find((e) => e.idSegment === '21');
    assert.equal(exp?.account, 'eu');
  });

  test("list --account shows only that account's exports", async () => {
    const { env } = stack;
    const rows = await waitFor(
      'eu exports to be visible',
      async () => {
        const res = await runCli(['list', '--account', 'eu', '--json'], env);
        assert.equal(res.code, 0, res.stderr);
        const list = JSON.parse(res.stdout) as { workflowId: string; account: string | null }[];
        return list.length >= 2 ? list : undefined;
      },
      30_000,
      500,
    );
    assert.ok(
      rows.every((r) => r.account === 'eu'),
      JSON.stringify(rows),
    );
    assert.ok(rows.some((r) => /^export-altcraft-eu-/.test(r.workflowId)));
    const all = JSON.parse((await runCli(['list', '--json'], env)).stdout) as { account: string | null }[];
    assert.ok(all.some((r) => r.account === 'default'));
    const bad = await runCli(['list', '--account', 'e u'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--account/);
  });

  test('accounts lists what the worker knows; --check --json proves each credential and shows myTracker quota', async () => {
    const { sim, env } = stack;
    const listed = await runCli(['accounts', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const plain = JSON.parse(listed.stdout);
    assert.equal(plain.checked, false);
    assert.deepEqual(
      plain.vendors.altcraft.map((a: { account: string }) => a.account),
      ['default', 'bad', 'eu'],
    );
    assert.deepEqual(plain.vendors.mytracker.find((a: { account: string }) => a.account === 'half').missing, [
      'MYTRACKER_API_SECRET__HALF',
    ]);

    const before = sim.count({ vendor: 'mytracker', endpoint: 'quotas' });
    const res = await runCli(['accounts', '--check', '--json'], env);
    assert.equal(res.code, 1, 'a refused account makes the check fail');
    const report = JSON.parse(res.stdout);
    const check = (vendor: string, account: string) =>
      report.vendors[vendor].find((a: { account: string }) => a.account === account)?.check;
    for (const vendor of ['altcraft', 'apsis', 'mytracker']) {
      for (const account of ['default', 'eu']) assert.equal(check(vendor, account)?.ok, true, `${vendor}/${account}`);
    }
    assert.equal(check('altcraft', 'bad').ok, false);
    assert.match(check('altcraft', 'bad').detail, /Invalid token/);
    assert.equal(check('mytracker', 'half').ok, false);
    assert.match(check('mytracker', 'half').detail, /MYTRACKER_API_SECRET__HALF not set/);
    assert.match(check('mytracker', 'default').detail, /RequestsByUserPerHour \d+\/1000 left/);
    assert.equal(sim.count({ vendor: 'mytracker', endpoint: 'quotas' }) - before, 2, 'one quota call per account');
    // Names and ok/error text only: no credential in the output.
    const eu = sim.accountCredentials('eu')!;
    for (const secret of [...Object.values(sim.credentials), ...Object.values(eu), 'not-the-panel-token'].filter(
      (v) => !/^\d+$/.test(v),
    )) {
      assert.ok(!res.stdout.includes(secret), 'a credential leaked into the accounts report');
    }
    const text = await runCli(['accounts', '--check'], env);
    assert.match(text.stdout, /Altcraft:\n {2}default {2}ok/);
    assert.match(text.stdout, /bad {2}FAILED/);
  });

  test('a schedule with --account starts its runs on that account, ExportAccount set on each run', async () => {
    const { sim, env, client } = stack;
    const create = await runCli(
      [
        'schedule',
        'create',
        'eu-hourly',
        '--cron',
        '0 * * * *',
        '--trigger-now',
        '--',
        ...'export altcraft --account eu --source-type segment --source-id 41'.split(' '),
      ],
      env,
    );
    assert.equal(create.code, 0, create.stderr);
    try {
      const run = await waitFor(
        'the triggered run to complete',
        async () => {
          for await (const wf of client.temporal.workflow.list({
            query: `ExportAccount="eu" AND WorkflowId STARTS_WITH "export-altcraft-eu-hourly"`,
          })) {
            if (wf.status.name === 'COMPLETED') return wf;
          }
          return undefined;
        },
        60_000,
        500,
      );
      assert.equal(run.typedSearchAttributes.get(EXPORT_SEARCH_ATTRIBUTES.account), 'eu');
      assert.equal(sim.altcraft.tasks().find((task) => task.sourceId === 41)?.account, 'eu');
    } finally {
      await runCli(['schedule', 'delete', 'eu-hourly'], env);
    }
  });
});
