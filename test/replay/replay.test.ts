import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DefaultLogger, Runtime, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOW_TYPES } from '../../src/shared/contract';
import { workflowBundleName } from '../../src/worker/bundle-name';
import { WORKFLOW_INTERCEPTOR_MODULES, workflowSpansDropped } from '../../src/telemetry';
import { HISTORIES_DIR, labels, loadFixtures, readIndex, type Fixture } from './fixtures';

/**
 * A release must not break an export in flight: every recorded history (test/replay/histories/<label>/, made by
 * `npm run record-histories`) is replayed against the workflow code of this tree. A change that issues other
 * commands than a recorded run did fails here, naming the fixture, its workflow type and the event.
 */

// The replay workers' state changes would drown the one line that matters.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
});

/**
 * The workflow code of this tree: the bundle `scripts/test` prebuilt from it (EXPORTFLOW_WORKFLOW_BUNDLE_DIR,
 * stamped with a hash of src/), or src/workflows bundled here when this file runs on its own.
 */
function currentWorkflows(): WorkflowCode {
  const dir = process.env.EXPORTFLOW_WORKFLOW_BUNDLE_DIR;
  if (dir) return { workflowBundle: { codePath: path.join(dir, workflowBundleName(false)) } };
  return {
    workflowsPath: require.resolve('../../src/workflows'),
    interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES },
  };
}

type WorkflowCode = Pick<ReplayWorkerOptions, 'workflowsPath' | 'workflowBundle' | 'interceptors'>;

async function replay(fixtures: Fixture[], code: WorkflowCode): Promise<Map<string, Error>> {
  const failures = new Map<string, Error>();
  let replayed = 0;
  const byId = new Map(fixtures.map((f, i) => [`${i}:${f.workflowId}`, f]));
  const results = Worker.runReplayHistories(
    // Workflow spans (the bundle's tracing interceptors) go to a sink that drops them, as on a worker not tracing.
    { ...code, sinks: workflowSpansDropped() },
    [...byId].map(([workflowId, f]) => ({ workflowId, history: f.history })),
  );
  for await (const result of results) {
    const fixture = byId.get(result.workflowId)!;
    replayed += 1;
    if (result.error) failures.set(fixture.name, result.error);
  }
  assert.equal(replayed, fixtures.length, 'every history was replayed');
  return failures;
}

describe('replay of recorded histories', () => {
  const all = labels();

  test('fixtures are present and every label lists exactly its files', () => {
    assert.ok(all.length > 0, `no recorded histories under ${HISTORIES_DIR}`);
    for (const label of all) {
      const listed = readIndex(label)
        .map((e) => e.file)
        .sort();
      const onDisk = fs
        .readdirSync(path.join(HISTORIES_DIR, label))
        .filter((f) => f.endsWith('.json') && f !== 'index.json')
        .sort();
      assert.deepEqual(listed, onDisk, `${label}/index.json and the files beside it differ`);
    }
  });

  for (const label of all) {
    test(`every ${label} history replays against the current workflow code`, async () => {
      const fixtures = loadFixtures(label);
      // Every workflow type and the paths named in the README are covered, so a gap shows up here.
      const types = new Set(fixtures.map((f) => f.workflowType));
      for (const t of Object.values(WORKFLOW_TYPES)) {
        assert.ok(types.has(t), `${label} has no ${t} history`);
      }
      const failures = await replay(fixtures, currentWorkflows());
      const report = [...failures].map(([name, err]) => {
        const f = fixtures.find((x) => x.name === name)!;
        return `${name} (${f.workflowType}, run ${f.run}/${f.runs}, ${f.outcome}): ${err.name}: ${err.message}`;
      });
      assert.deepEqual(report, [], `histories that no longer replay:\n${report.join('\n')}`);
    });
  }

  test('a workflow changed without patched() fails replay with a DeterminismViolationError naming the event', async () => {
    const label = all[0]!;
    const fixture = loadFixtures(label).find((f) => f.scenario === 'altcraft-happy');
    assert.ok(fixture, `${label} has an altcraft-happy history`);
    const failures = await replay([fixture], { workflowsPath: require.resolve('./changed-workflows') });
    const err = failures.get(fixture.name);
    assert.ok(err, 'replay against the changed code must fail');
    assert.ok(err instanceof DeterminismViolationError, `expected DeterminismViolationError, got ${err.name}`);
    // The message says which recorded event the new command ran into (the first command of the first task).
    assert.match(err.message, /Nondeterminism error: .*HistoryEvent\(id: \d+, UpsertWorkflowSearchAttributes\)/);
  });
});
