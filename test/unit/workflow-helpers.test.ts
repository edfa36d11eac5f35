import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/workflow';
import { resolveTiming } from '../../src/shared/inputs';
import { FAILURE_TYPES } from '../../src/shared/failure-types';
import {
  ExportDeadline,
  LATE_STEP_GRACE_MS,
  STEP_NEEDS_NO_TIMER_MS,
  exportDeadlineMs,
  stepBudgetMs,
} from '../../src/workflows/deadline';
import { MAX_HISTORY_EVENTS, continueAsNewDue } from '../../src/workflows/continue-as-new';
import { firstRound } from '../../src/workflows/poll';
import { MAX_REMOTE_ATTEMPTS, mayRequestAgain } from '../../src/workflows/request-again';
import type { ExportTracker } from '../../src/workflows/tracker';

/**
 * The workflow helpers' pure parts (src/workflows/deadline.ts, poll.ts, continue-as-new.ts, request-again.ts),
 * without a Temporal server: the arithmetic that decides timer lengths, schedule-to-close budgets and when a run
 * continues as new. What the helpers do under Temporal is covered by test/workflow and the replay of histories.
 */

const HOUR = 3_600_000;

/** Just what ExportDeadline and mayRequestAgain read of a tracker (a real one needs a workflow context). */
function fakeTracker(progress: { startedAt: string; attempts?: number; vendorStatus?: string | null }): ExportTracker {
  const full = { attempts: 0, vendorStatus: null, vendorPercent: null, ...progress };
  return { progress: full, attempts: full.attempts } as unknown as ExportTracker;
}

describe('the export deadline (deadline.ts)', () => {
  test('is the first start plus EXPORTFLOW_MAX_WAIT', () => {
    assert.equal(exportDeadlineMs('2026-01-01T00:00:00.000Z', 24 * HOUR), Date.parse('2026-01-02T00:00:00.000Z'));
  });

  test('a step an hour or more from the deadline needs no budget of its own', () => {
    assert.equal(stepBudgetMs(STEP_NEEDS_NO_TIMER_MS, 24 * HOUR), undefined);
    assert.equal(stepBudgetMs(20 * HOUR, 24 * HOUR), undefined);
    assert.equal(stepBudgetMs(STEP_NEEDS_NO_TIMER_MS - 1, 24 * HOUR), STEP_NEEDS_NO_TIMER_MS - 1);
  });

  test('a step nearer the deadline gets what is left', () => {
    assert.equal(stepBudgetMs(5 * 60_000, 24 * HOUR), 5 * 60_000);
  });

  test('a step at or past the deadline still gets the grace, a quarter of a short EXPORTFLOW_MAX_WAIT at most', () => {
    assert.equal(stepBudgetMs(0, 24 * HOUR), LATE_STEP_GRACE_MS);
    assert.equal(stepBudgetMs(-10 * 60_000, 24 * HOUR), LATE_STEP_GRACE_MS);
    assert.equal(stepBudgetMs(-1, 8_000), 2_000);
    assert.equal(stepBudgetMs(1_000, 8_000), 2_000);
    assert.equal(stepBudgetMs(0, 3), 0);
  });

  test('ExportDeadline: what is left, a wait capped at it, and the VendorTimeout naming the last status', () => {
    const started = Date.now() - 10_000;
    const tracker = fakeTracker({ startedAt: new Date(started).toISOString(), vendorStatus: 'in progress' });
    const deadline = new ExportDeadline(tracker, resolveTiming({ maxWaitMs: 60_000 }));
    assert.equal(deadline.at, started + 60_000);
    const left = deadline.leftMs();
    assert.ok(left > 40_000 && left <= 50_000, `left ${left}`);
    assert.equal(deadline.passed(), false);
    assert.equal(deadline.capped(1_000), 1_000);
    assert.ok(deadline.capped(10 * HOUR) <= 50_000);

    const late = new ExportDeadline(
      fakeTracker({ startedAt: new Date(started).toISOString() }),
      resolveTiming({ maxWaitMs: 5_000 }),
    );
    assert.equal(late.passed(), true);
    assert.equal(late.capped(1_000), 0);

    const timeout = deadline.timeout('Altcraft task 7');
    assert.ok(timeout instanceof ApplicationFailure);
    assert.equal(timeout.type, FAILURE_TYPES.timeout);
    assert.equal(timeout.nonRetryable, true);
    assert.equal(
      timeout.message,
      'Altcraft task 7 did not finish within EXPORTFLOW_MAX_WAIT (60s) (last status "in progress")',
    );
    assert.match(late.timeout('myTracker export 1').message, /\(5s\) \(no status\)$/);
  });
});

describe('continue-as-new (continue-as-new.ts)', () => {
  const quiet = { continueAsNewSuggested: false, historyLength: 100 };

  test('after pollsPerRun polls in the run', () => {
    assert.equal(continueAsNewDue({ ...quiet, pollsThisRun: 119, pollsPerRun: 120 }), false);
    assert.equal(continueAsNewDue({ ...quiet, pollsThisRun: 120, pollsPerRun: 120 }), true);
  });

  test('earlier when Temporal suggests it or the history passes MAX_HISTORY_EVENTS', () => {
    assert.equal(continueAsNewDue({ ...quiet, pollsThisRun: 1, pollsPerRun: 120, continueAsNewSuggested: true }), true);
    const long = { ...quiet, pollsThisRun: 1, pollsPerRun: 120 };
    assert.equal(continueAsNewDue({ ...long, historyLength: MAX_HISTORY_EVENTS }), false);
    assert.equal(continueAsNewDue({ ...long, historyLength: MAX_HISTORY_EVENTS + 1 }), true);
  });
});

describe('the poll loop (poll.ts)', () => {
  test("a continued run's first loop on a carried job resumes its back-off; every other loop starts at round 0", () => {
    const carried = { firstInRun: true, continued: true, hasRemote: true, polls: 37 };
    assert.equal(firstRound(carried), 37);
    assert.equal(firstRound({ ...carried, firstInRun: false }), 0);
    assert.equal(firstRound({ ...carried, continued: false }), 0);
    assert.equal(firstRound({ ...carried, hasRemote: false }), 0);
  });
});

describe('requesting a vendor job again (request-again.ts)', () => {
  test('allowed while fewer than MAX_REMOTE_ATTEMPTS requests were made', () => {
    const startedAt = new Date().toISOString();
    assert.equal(mayRequestAgain(fakeTracker({ startedAt, attempts: MAX_REMOTE_ATTEMPTS - 1 })), true);
    assert.equal(mayRequestAgain(fakeTracker({ startedAt, attempts: MAX_REMOTE_ATTEMPTS })), false);
  });
});

describe('workflow code keeps no module state', () => {
  test('no module-level let or var in src/workflows (a run passes its state in arguments and objects)', () => {
    const dir = path.resolve(__dirname, '..', '..', 'src', 'workflows');
    const found: string[] = [];
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      fs.readFileSync(path.join(dir, name), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^(export\s+)?(let|var)\s/.test(line)) found.push(`${name}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(found, []);
  });
});
