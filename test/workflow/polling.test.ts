import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { DEFAULT_TIMING } from '../../src/shared/inputs';
import { FAILURE_TYPES } from '../../src/shared/failure-types';
import type { ProviderInput } from '../../src/shared/provider-specs';
import { HOUR, Harness, altcraftFile, storedFile, timerDurations, type ActivityResult } from './harness';
import { gaps, runToEnd, running } from './run';

/**
 * The poll loop (src/workflows/poll.ts JobPoller.untilDone) under time skipping: back-off and jitter, Retry-After,
 * the EXPORTFLOW_MAX_WAIT deadline, consecutive poll failures, continue-as-new and what a day of waiting costs.
 */

const altcraftInput = { sourceType: 'segment', sourceId: 7 } satisfies ProviderInput<'altcraft'>;
const done = (urls = ['https://files.example/a.csv']): ActivityResult<'altcraftTaskStatus'> => ({
  state: 'done',
  status: 'completed',
  urls,
  total: 1,
});

describe('poll loop under time skipping', { timeout: 300_000 }, () => {
  let h: Harness;
  before(async () => void (h = await Harness.start('poll')));
  after(() => h?.close());

  /** An Altcraft task that is ready `readyAfterMs` of workflow time after it was created. */
  function altcraftReadyAfter(workflowId: string, readyAfterMs: number): { readyAt: () => number } {
    let createdAt = 0;
    h.script(workflowId, {
      altcraftCreateExport: (_i, call) => {
        createdAt = call.at;
        return { taskId: `task-${workflowId}` };
      },
      altcraftTaskStatus: (_i, call) => (call.at >= createdAt + readyAfterMs ? done() : running()),
      altcraftDownload: (i) => altcraftFile(i.fileName),
    });
    return { readyAt: () => createdAt + readyAfterMs };
  }

  test('a 24 h vendor job with the default poll settings: ≤ 300 status calls, runs ≤ 2,000 events, file noticed within EXPORTFLOW_POLL_MAX', async (t) => {
    const figures: string[] = [];
    for (const n of [1, 2]) {
      const id = `day-${n}`;
      const job = altcraftReadyAfter(id, 24 * HOUR);
      // Only the deadline is moved past the job (it would otherwise end the wait exactly when the file is ready).
      const result = await runToEnd(h, 'altcraft', id, { ...altcraftInput, timing: { maxWaitMs: 30 * HOUR } });
      assert.equal(result.kind, 'completed', JSON.stringify(result));
      const polls = h.callsOf(id, 'altcraftTaskStatus');
      const runs = await h.runs(id);
      const events = runs.map((r) => r.events?.length ?? 0);
      const lateMs = polls.at(-1)!.at - job.readyAt();
      figures.push(
        `${id}: ${polls.length} status calls, ${runs.length} runs of ${events.join('/')} events, noticed ${Math.round(lateMs / 1000)} s late`,
      );

      assert.ok(polls.length <= 300, `${polls.length} status calls in a day`);
      for (const e of events) assert.ok(e <= 2000, `a run held ${e} events`);
      assert.ok(lateMs >= 0 && lateMs <= DEFAULT_TIMING.pollMaxMs + 60_000, `noticed ${lateMs} ms after ready`);
      // Continue-as-new carried the task over: created once, every poll asked about it, the manifest names it.
      assert.ok(runs.length >= 2, 'the day took more than one run');
      assert.equal(h.callsOf(id, 'altcraftCreateExport').length, 1);
      assert.ok(polls.every((p) => p.input.taskId === `task-${id}`));
      assert.equal(result.kind === 'completed' && result.manifest.remote.id, `task-${id}`);
      assert.equal(result.kind === 'completed' && result.manifest.remote.attempts, 1);
      // Each run but the last continued after exactly pollsPerRun polls.
      const starts = runs.slice(1).map((r) => Date.parse(eventTime(r.events![0]!)));
      for (const [i, startedAt] of starts.entries()) {
        const before = polls.filter((p) => p.at < startedAt).length;
        assert.equal(before, DEFAULT_TIMING.pollsPerRun * (i + 1), `polls before run ${i + 2}`);
      }
    }
    t.diagnostic(figures.join('; '));
    console.log(`24 h job with default poll settings: ${figures.join('; ')}`);
  });

  test('back-off doubles from EXPORTFLOW_POLL_INITIAL to EXPORTFLOW_POLL_MAX with ±20% jitter, and within 2% below the cap', async () => {
    const id = 'backoff';
    let polls = 0;
    h.script(id, {
      altcraftCreateExport: () => ({ taskId: 't' }),
      altcraftTaskStatus: () => (++polls >= 40 ? done() : running()),
      altcraftDownload: (i) => altcraftFile(i.fileName),
    });
    const timing = { pollInitialMs: 10_000, pollMaxMs: 160_000, maxWaitMs: 24 * HOUR };
    const result = await runToEnd(h, 'altcraft', id, { ...altcraftInput, timing });
    assert.equal(result.kind, 'completed');
    const [history] = await h.runs(id);
    const timers = timerDurations(history!);
    assert.equal(timers.length, 39, 'one timer between each two polls');
    for (const [round, ms] of timers.entries()) {
      const base = Math.min(timing.pollMaxMs, timing.pollInitialMs * 2 ** round);
      const low = base >= timing.pollMaxMs ? 0.98 * timing.pollMaxMs : Math.max(timing.pollInitialMs, 0.8 * base);
      const high = Math.min(timing.pollMaxMs, 1.2 * base);
      assert.ok(ms >= Math.floor(low) && ms <= high, `timer ${round}: ${ms} ms not in [${low}, ${high}]`);
    }
    // Jitter: exports started together drift apart, in the growing phase and at the cap.
    assert.ok(new Set(timers.slice(5)).size >= 3, `capped waits differ: ${timers.join(' ')}`);
    assert.ok(
      timers.slice(0, 4).some((ms, round) => ms !== timing.pollInitialMs * 2 ** round),
      'growing waits are jittered',
    );
    // The status calls follow the timers: no poll comes before its timer has run out.
    for (const [i, gap] of gaps(h.callsOf(id, 'altcraftTaskStatus')).entries()) assert.ok(gap >= timers[i]!);
  });

  test('a Retry-After longer than the back-off is obeyed; a shorter one does not speed polling up', async () => {
    const id = 'retry-after';
    let polls = 0;
    h.script(id, {
      apsisRequestSegmentReport: (_i, call) => ({
        reportId: 'r1',
        pollUrl: 'https://api.example/poll/r1',
        pollKind: 'v2',
        validUntil: new Date(call.at + 48 * HOUR).toISOString(),
      }),
      apsisPollSegmentReport: () => {
        polls += 1;
        if (polls <= 3) return { state: 'notReady', status: 202, retryAfterMs: 20 * 60_000 };
        if (polls <= 5) return { state: 'notReady', status: 202, retryAfterMs: 1000 };
        return { state: 'stored', file: storedFile('report.csv') };
      },
    });
    const result = await runToEnd(h, 'apsis-segment', id, {
      section: 'com.example.sec',
      segments: ['com.example.seg'],
    });
    assert.equal(result.kind, 'completed', JSON.stringify(result));
    const timers = timerDurations((await h.runs(id))[0]!);
    assert.deepEqual(timers.slice(0, 3), [20 * 60_000, 20 * 60_000, 20 * 60_000]);
    // Rounds 3 and 4 of the default back-off: 40 s and 80 s ±20%, never the vendor's 1 s.
    assert.ok(timers[3]! >= 32_000 && timers[3]! <= 48_000, `timer 3: ${timers[3]}`);
    assert.ok(timers[4]! >= 64_000 && timers[4]! <= 96_000, `timer 4: ${timers[4]}`);
  });

  test('a job still running at the 24 h EXPORTFLOW_MAX_WAIT deadline fails with VendorTimeout at the deadline', async () => {
    const id = 'deadline';
    h.script(id, {
      altcraftCreateExport: () => ({ taskId: 'slow' }),
      altcraftTaskStatus: () => ({ state: 'running', status: 'processing', progress: 42 }),
    });
    const result = await runToEnd(h, 'altcraft', id, altcraftInput);
    assert.equal(result.kind, 'failed');
    assert.equal(result.kind === 'failed' && result.type, FAILURE_TYPES.timeout);
    assert.match(
      result.kind === 'failed' ? result.message : '',
      /Altcraft task slow did not finish within EXPORTFLOW_MAX_WAIT \(86400s\) \(last status "processing", 42%\)/,
    );
    const polls = h.callsOf(id, 'altcraftTaskStatus');
    const created = h.callsOf(id, 'altcraftCreateExport')[0]!.at;
    const span = polls.at(-1)!.at - created;
    assert.ok(span <= 24 * HOUR && span >= 24 * HOUR - DEFAULT_TIMING.pollMaxMs - 60_000, `last poll ${span} ms in`);
    const cleanups = h.callsOf(id, 'removeExportFiles');
    assert.equal(cleanups.length, 1, 'a failed export removes its files');
    assert.ok(cleanups[0]!.at - created >= 24 * HOUR - 60_000, 'and fails at the deadline, not before');
  });

  test('10 status polls failing in a row (each after its own retries) end the export; fewer are survived', async () => {
    const unavailable = () => {
      throw ApplicationFailure.create({ type: FAILURE_TYPES.unavailable, message: 'HTTP 503 from Altcraft' });
    };
    // Nine failed polls, then the task answers: the export goes on.
    let attempts = 0;
    h.script('poll-fail-9', {
      altcraftCreateExport: () => ({ taskId: 't9' }),
      altcraftTaskStatus: () => (++attempts <= 9 * 6 ? unavailable() : done()),
      altcraftDownload: (i) => altcraftFile(i.fileName),
    });
    const survived = await runToEnd(h, 'altcraft', 'poll-fail-9', altcraftInput);
    assert.equal(survived.kind, 'completed', JSON.stringify(survived));

    h.script('poll-fail-10', { altcraftCreateExport: () => ({ taskId: 't10' }), altcraftTaskStatus: unavailable });
    const result = await runToEnd(h, 'altcraft', 'poll-fail-10', altcraftInput);
    assert.equal(result.kind === 'failed' && result.type, FAILURE_TYPES.unavailable);
    const calls = h.callsOf('poll-fail-10', 'altcraftTaskStatus');
    // Each poll is one activity with 6 attempts (activity-options.ts); 10 such polls, then the export gives up.
    assert.equal(calls.filter((c) => c.attempt === 1).length, 10);
    assert.equal(calls.length, 60);
    assert.equal(h.callsOf('poll-fail-10', 'removeExportFiles').length, 1);
  });

  test('continue-as-new carries an APSIS report and a myTracker export over: each is requested once', async () => {
    const timing = { pollInitialMs: 1000, pollMaxMs: 2000, pollsPerRun: 3 };
    let apsisPolls = 0;
    h.script('can-apsis', {
      apsisRequestSegmentReport: (_i, call) => ({
        reportId: 'rep-1',
        pollUrl: 'https://api.example/poll/rep-1',
        pollKind: 'v2',
        validUntil: new Date(call.at + 48 * HOUR).toISOString(),
      }),
      apsisPollSegmentReport: () =>
        ++apsisPolls >= 10 ? { state: 'stored', file: storedFile('r.csv') } : { state: 'notReady', status: 202 },
    });
    const apsis = await runToEnd(h, 'apsis-segment', 'can-apsis', {
      section: 'com.example.sec',
      segments: ['com.example.seg'],
      timing,
    });
    assert.equal(apsis.kind, 'completed', JSON.stringify(apsis));
    assert.equal((await h.runs('can-apsis')).length, 4);
    assert.equal(h.callsOf('can-apsis', 'apsisRequestSegmentReport').length, 1);
    assert.ok(
      h
        .callsOf('can-apsis', 'apsisPollSegmentReport')
        .every((c) => (c.input.report as { reportId: string }).reportId === 'rep-1'),
    );
    assert.equal(apsis.kind === 'completed' && apsis.manifest.remote.id, 'rep-1');

    let mtPolls = 0;
    h.script('can-mt', {
      mytrackerCreateExport: () => ({ exportId: '501' }),
      mytrackerExportStatus: () =>
        ++mtPolls >= 8
          ? {
              state: 'done',
              status: 'Success!',
              files: [{ link: 'https://dl.example/1.csv.gz', expiresAt: 4e9, expired: false }],
            }
          : { state: 'running', status: 'In progress', progress: mtPolls * 10 },
      mytrackerDownload: (i) => ({ stored: storedFile(i.fileName) }),
    });
    const mt = await runToEnd(h, 'mytracker', 'can-mt', { segmentId: 9, timing });
    assert.equal(mt.kind, 'completed', JSON.stringify(mt));
    assert.equal((await h.runs('can-mt')).length, 3);
    assert.equal(h.callsOf('can-mt', 'mytrackerCreateExport').length, 1);
    assert.equal(mt.kind === 'completed' && mt.manifest.remote.attempts, 1);
    assert.equal(mt.kind === 'completed' && mt.manifest.remote.id, '501');
  });
});

function eventTime(e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }): string {
  const seconds = Number(e.eventTime?.seconds ?? 0);
  return new Date(seconds * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6)).toISOString();
}
