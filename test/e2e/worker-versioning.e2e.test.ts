import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { temporal } from '@temporalio/proto';
import { after, before, describe, test } from 'node:test';
import type { ExportClient } from '../../src/client';
import { ensureTemporalCli } from '../../src/dev/temporal-server';
import type { Simulator } from '../../src/simulator';
import { runCli, spawnWorker, waitFor, type WorkerProcess } from '../helpers/processes';
import { startStack, type TestStack } from '../helpers/stack';

const DEPLOYMENT = 'exportflow-e2e';

/**
 * Worker Versioning on the CLI dev server with two builds of the worker (EXPORTFLOW_BUILD_ID): an export started
 * on build A stays pinned to A and finishes there after B becomes current; an export started after that runs on B.
 */
describe('worker versioning (opt-in)', () => {
  let stack: TestStack;
  let sim: Simulator;
  let env: Record<string, string>;
  let client: ExportClient;
  let cli: string;
  const workers: WorkerProcess[] = [];

  const setCurrent = async (buildId: string) => {
    // The server refuses a version whose pollers have not yet reached every task queue the current version
    // serves ("missing active task queues"): a build that just started registers its five queues one by one.
    await waitFor(
      `build ${buildId} to be accepted as current`,
      () =>
        trySetCurrent(buildId).then(
          () => true,
          (err: Error) => {
            if (/missing active task queues/.test(err.message)) return false;
            throw err;
          },
        ),
      30_000,
      500,
    );
  };
  const trySetCurrent = async (buildId: string) => {
    await promisify(execFile)(cli, [
      'worker',
      'deployment',
      'set-current-version',
      '--address',
      stack.temporal.address,
      '--deployment-name',
      DEPLOYMENT,
      '--build-id',
      buildId,
      '--yes',
    ]);
  };
  const startBuild = async (buildId: string) => {
    const w = spawnWorker({ ...env, EXPORTFLOW_BUILD_ID: buildId });
    workers.push(w);
    await w.ready;
    return w;
  };
  const pinnedTo = async (workflowId: string) => {
    const d = await client.temporal.workflow.getHandle(workflowId).describe();
    const info = d.raw.workflowExecutionInfo?.versioningInfo;
    return { behavior: info?.behavior, buildId: info?.deploymentVersion?.buildId ?? undefined };
  };

  before(async () => {
    cli = await ensureTemporalCli();
    stack = await startStack('versioning', {
      worker: false,
      env: { EXPORTFLOW_DEPLOYMENT_NAME: DEPLOYMENT },
      // Long vendor processing keeps the first export in flight while build B arrives.
      sim: { altcraft: { taskDurationMs: 600_000 } },
    });
    ({ sim, env, client } = stack);
  });

  after(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await stack?.stop();
  });

  test('in-flight exports finish on the build that started them; new ones start on the current build', async () => {
    const a = await startBuild('build-a');
    assert.match(a.logs(), /"buildId":"build-a".*"worker versioning on"/);
    await setCurrent('build-a');

    const first = await runCli(['export', 'altcraft', '--source-type', 'database', '--source-id', '1'], env);
    assert.equal(first.code, 0, first.stderr);
    const firstId = first.stdout.trim();
    await waitFor(
      'the first export to poll Altcraft',
      async () => ((await client.status(firstId)).progress?.polls ?? 0) >= 1,
    );

    const b = await startBuild('build-b');
    await setCurrent('build-b');
    const aLogsAtSwitch = a.logs().length;
    const second = await runCli(['export', 'altcraft', '--source-type', 'database', '--source-id', '2'], env);
    assert.equal(second.code, 0, second.stderr);
    const secondId = second.stdout.trim();
    await waitFor(
      'the second export to poll Altcraft',
      async () => ((await client.status(secondId)).progress?.polls ?? 0) >= 1,
    );

    // Now let both vendor tasks finish: the first export's remaining polls and download happen after B is current.
    const pollsBefore = sim.count({ vendor: 'altcraft', endpoint: 'status' });
    sim.altcraft.config.taskDurationMs = 500;
    for (const id of [firstId, secondId]) {
      const res = await runCli(['result', id, '--json'], env, 120_000);
      assert.equal(res.code, 0, res.stderr);
    }
    assert.ok(sim.count({ vendor: 'altcraft', endpoint: 'status' }) > pollsBefore);

    const PINNED = temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED;
    assert.deepEqual(await pinnedTo(firstId), { behavior: PINNED, buildId: 'build-a' });
    assert.deepEqual(await pinnedTo(secondId), { behavior: PINNED, buildId: 'build-b' });
    // Each export's activities ran on its own build's workers (activity logs carry the workflow id).
    assert.ok(a.logs().slice(aLogsAtSwitch).includes(`"workflowId":"${firstId}"`), 'A went on with the first export');
    assert.ok(!b.logs().includes(firstId), 'B never ran any of the first export');
    assert.ok(!a.logs().includes(secondId), 'A never ran any of the second export');
    assert.ok(b.logs().includes(`"workflowId":"${secondId}"`), 'B ran the second export');
  });
});
