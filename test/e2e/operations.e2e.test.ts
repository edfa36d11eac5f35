import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExportClient } from '../../src/client';
import { WORKFLOW_TYPES } from '../../src/shared/contract';
import { type Simulator } from '../../src/simulator';
import { startStack, type TestStack } from '../helpers/stack';
import { REPO_ROOT, runCli, waitFor } from '../helpers/processes';
import { freePort } from '../helpers/temporal';

/** What operators and other services rely on: search attributes, list, metrics, idempotent starts, schedules. */
describe('operations', () => {
  let stack: TestStack;
  let sim: Simulator;
  let env: Record<string, string>;
  let client: ExportClient;
  let metricsUrl: string;

  before(async () => {
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    stack = await startStack('ops', {
      sim: { altcraft: { taskDurationMs: 500 } },
      env: { METRICS_LISTEN: `127.0.0.1:${metricsPort}` },
    });
    ({ sim, env, client } = stack);
  });

  after(async () => {
    await stack?.stop();
  });

  test('search attributes let operators filter exports; `list` shows provider, phase, bytes and vendor id', async () => {
    const res = await runCli(
      ['export', 'altcraft', '--source-type', 'database', '--source-id', '21', '--wait', '--json'],
      env,
    );
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout);
    const row = await waitFor('visibility to show the completed export', async () => {
      const rows = await client.list({ provider: 'altcraft', phase: 'completed' });
      return rows.find((r) => r.workflowId === manifest.workflowId);
    });
    assert.equal(row.remoteId, manifest.remote.id);
    assert.equal(row.bytes, manifest.files[0].bytes);
    assert.equal(row.execution, 'COMPLETED');
    const cli = await runCli(['list', '--provider', 'altcraft', '--json'], env);
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(JSON.parse(cli.stdout).some((r: { workflowId: string }) => r.workflowId === manifest.workflowId));
    const none = await client.list({ provider: 'mytracker', phase: 'completed' });
    assert.equal(
      none.some((r) => r.workflowId === manifest.workflowId),
      false,
      'the provider filter filters',
    );
    const description = await client.temporal.workflow.getHandle(manifest.workflowId).describe();
    assert.match(String((await description.staticSummary?.()) ?? ''), /Altcraft database 21/);
  });

  test('a caller-chosen workflow id makes start idempotent: one workflow, one vendor task', async () => {
    sim.reset();
    const input = { sourceType: 'database' as const, sourceId: 22 };
    const first = await client.start('altcraft', input, { workflowId: 'orders-nightly-22' });
    const second = await client.start('altcraft', input, { workflowId: 'orders-nightly-22' });
    assert.equal(first.existing, false);
    assert.equal(second.existing, true);
    await client.result('orders-nightly-22');
    const third = await client.start('altcraft', input, { workflowId: 'orders-nightly-22' });
    assert.equal(third.existing, true, 'also after it completed');
    assert.equal(sim.count({ vendor: 'altcraft', endpoint: 'get_all' }), 1);
  });

  test('a service with only @temporalio/client starts an export by workflow type name', async () => {
    const handle = await client.temporal.workflow.start(WORKFLOW_TYPES.altcraft, {
      taskQueue: env.EXPORTFLOW_TASK_QUEUE!,
      workflowId: 'bare-client-export-23',
      args: [{ sourceType: 'database', sourceId: 23 }],
    });
    const manifest = (await handle.result()) as { files: { rows: number; sha256: string; path: string }[] };
    assert.equal(manifest.files[0]!.rows, 123);
    assert.equal(
      crypto.createHash('sha256').update(fs.readFileSync(manifest.files[0]!.path)).digest('hex'),
      manifest.files[0]!.sha256,
    );
    const bad = await client.temporal.workflow.start(WORKFLOW_TYPES.altcraft, {
      taskQueue: env.EXPORTFLOW_TASK_QUEUE!,
      workflowId: 'bare-client-bad-input',
      args: [{ sourceType: 'table', sourceId: -1 }],
    });
    await assert.rejects(bad.result(), (err: Error) =>
      /sourceType: expected "database" or "segment"/.test(String((err.cause as Error)?.message)),
    );
  });

  test('the worker serves Prometheus metrics with export, poll, HTTP status and byte counters', async () => {
    // Visibility is eventually consistent: wait until it shows every export this file finished so far.
    const completed = await waitFor('visibility to count the completed exports', async () => {
      const { count } = await client.temporal.workflow.count(
        `TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}" AND ExecutionStatus="Completed"`,
      );
      return count >= 3 ? count : undefined;
    });
    const text = await (await fetch(metricsUrl)).text();
    const value = (name: string, labels: Record<string, string>) => {
      let total = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`)) continue;
        if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
        total += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return total;
    };
    const ours = text
      .split('\n')
      .filter((l) => l.includes('exportflow_'))
      .join('\n');
    assert.equal(value('exportflow_exports_started_total', { provider: 'altcraft' }), completed, ours);
    assert.equal(value('exportflow_exports_completed_total', { provider: 'altcraft' }), completed);
    assert.ok(value('exportflow_vendor_polls_total', { provider: 'altcraft' }) >= 1);
    assert.equal(
      value('exportflow_vendor_http_responses_total', {
        vendor: 'altcraft',
        endpoint: 'profiles/get_all',
        status: '200',
      }),
      completed,
    );
    const exportsDir = env.EXPORT_DIR!;
    let stored = 0;
    for (const dir of fs.readdirSync(exportsDir))
      for (const f of fs.readdirSync(path.join(exportsDir, dir)))
        stored += fs.statSync(path.join(exportsDir, dir, f)).size;
    assert.equal(value('exportflow_bytes_downloaded_total', { vendor: 'altcraft' }), stored);
    assert.match(text, /temporal_/, 'the SDK metrics are served too');
    assert.equal(text.includes(sim.credentials.altcraftToken), false);
  });

  test('a schedule produces runs with their own directories; overlapping runs are skipped', async () => {
    sim.reset();
    sim.altcraft.config.taskDurationMs = 2_500;
    try {
      const create = await runCli(
        [
          'schedule',
          'create',
          'every-second',
          '--every',
          '1s',
          '--overlap',
          'skip',
          '--trigger-now',
          '--',
          ...'export altcraft --source-type segment --source-id 31'.split(' '),
        ],
        env,
      );
      assert.equal(create.code, 0, create.stderr);
      const listed = JSON.parse((await runCli(['schedule', 'list', '--json'], env)).stdout);
      assert.ok(
        listed.some(
          (s: { scheduleId: string; workflowType: string }) =>
            s.scheduleId === 'every-second' && s.workflowType === WORKFLOW_TYPES.altcraft,
        ),
      );
      const runs = await waitFor(
        'two completed scheduled runs',
        async () => {
          const rows = await client.list({ provider: 'altcraft', phase: 'completed', limit: 100 });
          const mine = rows.filter((r) => r.workflowId.startsWith('export-altcraft-every-second-'));
          return mine.length >= 2 ? mine : undefined;
        },
        60_000,
        500,
      );
      const paused = await runCli(['schedule', 'pause', 'every-second'], env);
      assert.equal(paused.code, 0, paused.stderr);
      const handle = client.temporal.schedule.getHandle('every-second');
      const info = (await handle.describe()).info;
      assert.ok(info.numActionsSkippedOverlap > 0, `skipped ${info.numActionsSkippedOverlap} overlapping runs`);
      // With "skip", runs never overlap: each starts after the previous one closed.
      const executions = [];
      for await (const wf of client.temporal.workflow.list({
        query: `WorkflowId STARTS_WITH "export-altcraft-every-second-"`,
      }))
        executions.push(wf);
      executions.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
      for (let i = 1; i < executions.length; i++) {
        const prev = executions[i - 1]!;
        if (prev.closeTime) {
          assert.ok(
            executions[i]!.startTime >= prev.closeTime,
            `runs overlapped: ${executions.map((e) => `${e.workflowId} ${e.startTime.toISOString()}..${e.closeTime?.toISOString()}`).join(', ')}`,
          );
        }
      }
      for (const run of runs) {
        const manifest = await client.result(run.workflowId);
        assert.equal(
          path.basename(path.dirname(manifest.files[0]!.path)),
          run.workflowId,
          'each run has its own directory',
        );
        const sha = crypto.createHash('sha256').update(fs.readFileSync(manifest.files[0]!.path)).digest('hex');
        assert.equal(sha, manifest.files[0]!.sha256);
        assert.equal(manifest.totalRows, 131);
      }
      const deleted = await runCli(['schedule', 'delete', 'every-second'], env);
      assert.equal(deleted.code, 0, deleted.stderr);
      const missing = await runCli(['schedule', 'delete', 'every-second'], env);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /no schedule named "every-second"/);
    } finally {
      sim.altcraft.config.taskDurationMs = 500;
    }
  });

  test('schedule create rejects bad specs and bad export options with exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [
        [
          'schedule',
          'create',
          's',
          '--cron',
          'not a cron',
          '--',
          'export',
          'altcraft',
          '--source-type',
          'database',
          '--source-id',
          '1',
        ],
        /--cron/,
      ],
      [
        [
          'schedule',
          'create',
          's',
          '--every',
          '1s',
          '--timezone',
          'Mars/Base',
          '--',
          'export',
          'altcraft',
          '--source-type',
          'database',
          '--source-id',
          '1',
        ],
        /--timezone/,
      ],
      [
        [
          'schedule',
          'create',
          's',
          '--cron',
          '0 3 * * *',
          '--every',
          '1h',
          '--',
          'export',
          'altcraft',
          '--source-type',
          'database',
          '--source-id',
          '1',
        ],
        /exactly one of cron or every/,
      ],
      [
        [
          'schedule',
          'create',
          's',
          '--every',
          '1h',
          '--',
          'export',
          'altcraft',
          '--source-type',
          'table',
          '--source-id',
          '1',
        ],
        /--source-type/,
      ],
      [
        [
          'schedule',
          'create',
          's',
          '--every',
          '1h',
          '--overlap',
          'sometimes',
          '--',
          'export',
          'altcraft',
          '--source-type',
          'database',
          '--source-id',
          '1',
        ],
        /--overlap/,
      ],
      [['schedule', 'create', 's', '--every', '1h'], /expected `-- export <provider>/],
    ];
    for (const [args, message] of cases) {
      const res = await runCli(args, env);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message, args.join(' '));
    }
  });

  test('`exportflow setup` is idempotent on a namespace that already has the attributes', async () => {
    const res = await runCli(['setup'], env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /already registered/);
    // It also sets the vendor quotas on the vendor queues (docs/accounts-and-quotas.md), every time the same.
    assert.match(res.stderr, /-mytracker: 1\.44\/s in all, 1\.44\/s per account/);
    assert.doesNotMatch(res.stderr, /warning:/);
  });

  test('docker-compose.yml is a valid Compose file (checked with the Compose CLI)', (t) => {
    const v2 = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    const cmd = v2.status === 0 ? ['docker', 'compose'] : ['docker-compose'];
    if (v2.status !== 0 && spawnSync('docker-compose', ['version']).status !== 0) {
      t.skip('no Compose CLI on this machine (.ci/run installs docker-compose)');
      return;
    }
    const out = execFileSync(cmd[0]!, [...cmd.slice(1), 'config'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CALLBACK_SECRET: 'test-secret' },
      encoding: 'utf8',
    });
    for (const service of ['postgresql', 'temporal', 'temporal-ui', 'exportflow-worker', 'exportflow-setup']) {
      assert.match(out, new RegExp(`^  ${service}:`, 'm'), service);
    }
    assertCurrentTemporalCompose(out);
    const missingSecret = spawnSync(cmd[0]!, [...cmd.slice(1), 'config', '-q'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    assert.notEqual(missingSecret.status, 0, 'CALLBACK_SECRET is required');
    assert.match(missingSecret.stderr, /CALLBACK_SECRET/);
  });
});

/** One service's block of `docker compose config` output (two-space indented keys under `services:`). */
function composeService(out: string, name: string): string {
  const m = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\s*\\n)*)`, 'm').exec(out);
  assert.ok(m, `service ${name} in the Compose file`);
  return m[1]!;
}

/**
 * A current Temporal Server (1.29 or later, pinned) whose schemas a one-shot admin-tools service sets up with
 * temporal-sql-tool (no deprecated auto-setup), a pinned UI, and workers given time for a graceful stop.
 */
function assertCurrentTemporalCompose(out: string): void {
  assert.doesNotMatch(out, /auto-setup/, 'no deprecated auto-setup image');
  const server = composeService(out, 'temporal');
  const version = /image: temporalio\/server:(\d+)\.(\d+)\.(\d+)\s/.exec(server);
  assert.ok(version, `temporalio/server pinned to a release:\n${server}`);
  assert.ok(Number(version[1]) > 1 || Number(version[2]) >= 29, `server ${version[0]} is 1.29 or later`);
  assert.match(server, /temporal-schema:\s+condition: service_completed_successfully/);
  const schema = composeService(out, 'temporal-schema');
  assert.match(schema, new RegExp(`image: temporalio/admin-tools:${version[1]}\\.${version[2]}\\.${version[3]}`));
  for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema -d'])
    assert.ok(schema.includes(step), step);
  assert.match(schema, /visibility\/versioned/);
  assert.match(composeService(out, 'temporal-ui'), /image: temporalio\/ui:\d+\.\d+\.\d+\s/, 'UI pinned');
  assert.match(composeService(out, 'temporal-namespace'), /operator namespace create/);
  const worker = composeService(out, 'exportflow-worker');
  const grace = /stop_grace_period: (\d+)m\s/.exec(worker);
  assert.ok(grace, 'workers get a stop_grace_period');
  // The worker's default EXPORTFLOW_SHUTDOWN_GRACE (150 s) plus the SDK's 15 s force time must fit inside it.
  assert.ok(Number(grace[1]) * 60 >= 150 + 15, `stop_grace_period ${grace[1]}m covers the shutdown grace`);
}
