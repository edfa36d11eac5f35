import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { FAILURE_TYPES } from '../../src/shared/failure-types';
import type { ProviderInput } from '../../src/shared/provider-specs';
import { HOUR, Harness, altcraftFile, type ActivityResult } from './harness';
import { runToEnd, running } from './run';

/**
 * What a poll costs in Temporal actions, read from the workflow's own history under time skipping: one activity
 * attempt and one timer per poll (no scope timer beside the poll's sleep, no search-attribute upsert per poll or
 * per continued run), with the EXPORTFLOW_MAX_WAIT deadline still exact.
 */

type History = temporal.api.history.v1.IHistory;

/** Events of one kind in a chain of runs. */
function count(runs: History[], has: (e: temporal.api.history.v1.IHistoryEvent) => unknown): number {
  return runs.reduce((n, r) => n + (r.events ?? []).filter(has).length, 0);
}

const altcraftInput = { sourceType: 'segment', sourceId: 7 } satisfies ProviderInput<'altcraft'>;
const done = (): ActivityResult<'altcraftTaskStatus'> => ({
  state: 'done',
  status: 'completed',
  urls: ['https://files.example/a.csv'],
  total: 1,
});

describe('actions per poll under time skipping', { timeout: 300_000 }, () => {
  let h: Harness;
  before(async () => void (h = await Harness.start('actions')));
  after(() => h?.close());

  for (const [label, maxWaitMs] of [
    ['a deadline under an hour away (once a scope timer per poll)', 30 * 60_000],
    ['the default 24 h deadline', 24 * HOUR],
  ] as const) {
    test(`Altcraft, 40 "processing" answers, ${label}: ≤ 2 timer + activity attempts per poll, no upsert per poll or per run`, async () => {
      const id = `per-poll-${maxWaitMs}`;
      let polls = 0;
      h.script(id, {
        altcraftCreateExport: () => ({ taskId: 't' }),
        altcraftTaskStatus: (_i, call) => {
          // One retried attempt, so temporal.actions must count attempts, not activities.
          if (polls === 5 && call.attempt === 1) {
            throw ApplicationFailure.create({ type: FAILURE_TYPES.unavailable, message: 'HTTP 503 from Altcraft' });
          }
          return ++polls > 40 ? done() : running();
        },
        altcraftDownload: (i) => altcraftFile(i.fileName),
      });
      // pollsPerRun 15: the 41 polls span three runs, so continue-as-new is part of what is counted.
      const timing = { pollInitialMs: 1000, pollMaxMs: 2000, maxWaitMs, pollsPerRun: 15 };
      const result = await runToEnd(h, 'altcraft', id, { ...altcraftInput, timing });
      assert.equal(result.kind, 'completed', JSON.stringify(result));
      const runs = await h.runs(id);
      assert.equal(runs.length, 3);

      const statusCalls = h.callsOf(id, 'altcraftTaskStatus').length;
      assert.equal(statusCalls, 42, '41 polls, one of them retried once');
      const timers = count(runs, (e) => e.timerStartedEventAttributes);
      const statusScheduled = count(
        runs,
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'altcraftTaskStatus',
      );
      assert.equal(statusScheduled, 41, 'one activity per poll');
      // 41 polls sleep 40 times (none after the last); each run's poll that continues as new sleeps first.
      assert.equal(timers, 40, `${timers} timers for 41 polls`);
      assert.ok((timers + statusScheduled) / statusScheduled <= 2, 'at most one timer and one activity per poll');

      const ours = (e: temporal.api.history.v1.IHistoryEvent) =>
        Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).some((k) =>
          k.startsWith('Export'),
        );
      const upserts = runs.map((r) => count([r], ours));
      // Run 1: creating, then waiting (the job's id). Runs 2 and 3 inherit them: none until downloading, completed.
      assert.deepEqual(upserts, [2, 0, 2], `upserts per run: ${upserts.join('/')}`);
      // Besides, the SDK upserts TemporalChangeVersion once per run with the patch marker: one id, one upsert.
      const all = runs.map((r) => count([r], (e) => e.upsertWorkflowSearchAttributesEventAttributes));
      assert.deepEqual(all, [3, 1, 3], `all upserts per run: ${all.join('/')}`);
      // temporal.actions: runs started, timers, upserts, markers, signals from the history, and every activity
      // attempt as the doubles saw it (their own record, not the history's attempt numbers).
      const attempts = h.calls.filter((c) => c.workflowId === id).length;
      const expected =
        runs.length +
        timers +
        all.reduce((a, b) => a + b, 0) +
        count(runs, (e) => e.markerRecordedEventAttributes) +
        count(runs, (e) => e.workflowExecutionSignaledEventAttributes) +
        attempts;
      assert.equal(result.kind === 'completed' && result.manifest.temporal?.actions, expected);
      const markers = runs.map((r) => count([r], (e) => e.markerRecordedEventAttributes));
      assert.ok(
        markers.every((m) => m <= 1),
        `markers per run: ${markers.join('/')}`,
      );
      // The continued runs start with the attributes the run before them had.
      for (const run of runs.slice(1)) {
        const fields = run.events![0]!.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields ?? {};
        assert.ok(fields.ExportPhase && fields.ExportRemoteId, 'search attributes handed over by continue-as-new');
      }
    });
  }

  test('a 24 h Altcraft job with the default poll settings costs ≤ 650 actions in all (manifest temporal.actions)', async (t) => {
    const id = 'day-cost';
    let createdAt = 0;
    h.script(id, {
      altcraftCreateExport: (_i, call) => {
        createdAt = call.at;
        return { taskId: 'day' };
      },
      altcraftTaskStatus: (_i, call) => (call.at >= createdAt + 24 * HOUR ? done() : running()),
      altcraftDownload: (i) => altcraftFile(i.fileName),
    });
    // The deadline is moved past the job only (it would otherwise end the wait exactly when the file is ready).
    const result = await runToEnd(h, 'altcraft', id, { ...altcraftInput, timing: { maxWaitMs: 30 * HOUR } });
    assert.equal(result.kind, 'completed', JSON.stringify(result));
    const actions = result.kind === 'completed' ? result.manifest.temporal?.actions : undefined;
    const polls = h.callsOf(id, 'altcraftTaskStatus').length;
    const runs = (await h.runs(id)).length;
    t.diagnostic(`24 h job: ${actions} actions, ${polls} polls, ${runs} runs`);
    console.log(`24 h job with the default poll settings: ${actions} actions, ${polls} polls, ${runs} runs`);
    assert.ok(typeof actions === 'number' && actions <= 650, `${actions} actions`);
    assert.ok(actions! <= 2 * polls + 10 * runs, `${actions} actions for ${polls} polls in ${runs} runs`);
  });

  test('a status call that keeps failing runs into a 3 min deadline: VendorTimeout at the deadline, no scope timer', async () => {
    const id = 'deadline-on-activity';
    let created = 0;
    h.script(id, {
      altcraftCreateExport: (_i, call) => {
        created = call.at;
        return { taskId: 'slow' };
      },
      altcraftTaskStatus: () => {
        throw ApplicationFailure.create({ type: FAILURE_TYPES.unavailable, message: 'HTTP 503 from Altcraft' });
      },
    });
    const timing = { pollInitialMs: 1000, pollMaxMs: 2000, maxWaitMs: 3 * 60_000 };
    const result = await runToEnd(h, 'altcraft', id, { ...altcraftInput, timing });
    assert.equal(result.kind === 'failed' && result.type, FAILURE_TYPES.timeout, JSON.stringify(result));
    const runs = await h.runs(id);
    const last = runs.at(-1)!.events!;
    const closedAt = Number(last.at(-1)!.eventTime!.seconds) * 1000;
    assert.ok(closedAt - created >= 3 * 60_000 - 2000, `failed ${closedAt - created} ms after the request`);
    assert.ok(closedAt - created <= 3 * 60_000 + 60_000, `failed ${closedAt - created} ms after the request`);
    // The deadline rode on the activities (schedule-to-close), not on a timer of its own per step.
    const scheduled = runs.flatMap((r) => r.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
    const status = scheduled.filter(
      (e) => e.activityTaskScheduledEventAttributes!.activityType?.name === 'altcraftTaskStatus',
    );
    assert.ok(status.length >= 1);
    for (const e of status) {
      assert.ok(e.activityTaskScheduledEventAttributes!.scheduleToCloseTimeout, 'poll carries the deadline');
    }
    const timers = count(runs, (e) => e.timerStartedEventAttributes);
    assert.ok(timers <= status.length, `${timers} timers for ${status.length} polls`);
  });
});
