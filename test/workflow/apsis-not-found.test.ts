import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { V1_NOT_FOUND_READY_WINDOW_MS } from '../../src/providers/apsis/constants';
import { HOUR, Harness, storedFile, type Call } from './harness';
import { runToEnd } from './run';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * An older (v1) APSIS poll URL answers 404 both while the report is not ready and when it is "no longer
 * available or the ID provided is invalid". Within the readiness window (6 h after the request) a 404 is "not
 * ready"; past it the report is taken as gone and requested again, at most 3 times in all. `_v2` URLs, whose
 * "not ready" is 202, are not affected. Activities are test doubles; the workflow clock skips.
 */

const input = {
  section: 'com.example.sec',
  segments: ['com.example.seg'],
  // Waits of up to 30 min keep a 6 h window to a few dozen polls.
  timing: { pollInitialMs: 60_000, pollMaxMs: 30 * 60_000 },
};

/** A report as apsisRequestSegmentReport answers; `requestedAt` is left out to play a state recorded before it. */
const report = (id: string, call: Call, kind: 'v1' | 'v2', withRequestedAt = true) => ({
  reportId: id,
  pollUrl: `https://api.example/poll/${id}`,
  pollKind: kind,
  validUntil: new Date(call.at + 24 * HOUR).toISOString(),
  ...(withRequestedAt ? { requestedAt: new Date(call.at).toISOString() } : {}),
});

const reportIds = (h: Harness, id: string) =>
  h.callsOf(id, 'apsisPollSegmentReport').map((c) => (c.input.report as { reportId: string }).reportId);

describe('APSIS older poll URL: a 404 past its readiness window is gone', { timeout: 300_000 }, () => {
  let h: Harness;
  before(async () => void (h = await Harness.start('apsis404')));
  after(() => h?.close());

  test('a 404 that never ends: requested again after each 6 h window, 3 reports, then VendorJobGone', async () => {
    const id = 'v1-404-forever';
    let reports = 0;
    h.script(id, {
      apsisRequestSegmentReport: (_i, call) => report(`rep-${++reports}`, call, 'v1', reports !== 2),
      apsisPollSegmentReport: () => ({ state: 'notReady', status: 404 }),
    });
    const result = await runToEnd(h, 'apsis-segment', id, input);
    assert.equal(result.kind === 'failed' && result.type, FAILURE_TYPES.gone, JSON.stringify(result));
    assert.match(
      result.kind === 'failed' ? result.message : '',
      /report rep-3: its poll URL still answers HTTP 404 6 h after the request; .*"no longer available or the ID provided is invalid".*\(gave up after requesting the report 3 times\)/,
    );
    const requests = h.callsOf(id, 'apsisRequestSegmentReport');
    assert.equal(requests.length, 3);
    // Each report was polled through its whole window (with or without requestedAt in its state), not longer
    // than one back-off step (30 min) past it.
    const polls = h.callsOf(id, 'apsisPollSegmentReport');
    for (const [i, request] of requests.entries()) {
      const next = requests[i + 1]?.at ?? Infinity;
      const mine = polls.filter((p) => p.at >= request.at && p.at < next);
      const last = mine[mine.length - 1]!;
      assert.ok(last.at - request.at >= V1_NOT_FOUND_READY_WINDOW_MS, `report ${i + 1} polled until ${last.at}`);
      assert.ok(last.at - request.at < V1_NOT_FOUND_READY_WINDOW_MS + 30 * 60_000 + 60_000);
    }
    assert.deepEqual([...new Set(reportIds(h, id))], ['rep-1', 'rep-2', 'rep-3']);
    // Files of a spent report are removed before each new request, and once more when the export fails.
    assert.equal(h.callsOf(id, 'removeExportFiles').length, 3);
  });

  test('a 404 within the window is still "not ready": a report ready after 5 h is stored from the first request', async () => {
    const id = 'v1-404-slow';
    let requestedAt = 0;
    h.script(id, {
      apsisRequestSegmentReport: (_i, call) => {
        requestedAt = call.at;
        return report('slow', call, 'v1');
      },
      apsisPollSegmentReport: (_i, call) =>
        call.at - requestedAt >= 5 * HOUR
          ? { state: 'stored', file: storedFile('segment-report.csv') }
          : { state: 'notReady', status: 404 },
    });
    const result = await runToEnd(h, 'apsis-segment', id, input);
    assert.equal(result.kind, 'completed', JSON.stringify(result));
    assert.equal(h.callsOf(id, 'apsisRequestSegmentReport').length, 1);
    assert.equal(result.kind === 'completed' && result.manifest.remote.attempts, 1);
  });

  test('a report lost once: the second request is stored; a _v2 URL saying 202 for 7 h is not affected', async () => {
    const lost = 'v1-404-once';
    let reports = 0;
    h.script(lost, {
      apsisRequestSegmentReport: (_i, call) => report(`r${++reports}`, call, 'v1'),
      apsisPollSegmentReport: (i: { report: { reportId: string } }) =>
        i.report.reportId === 'r1'
          ? { state: 'notReady', status: 404 }
          : { state: 'stored', file: storedFile('segment-report.csv') },
    });
    const once = await runToEnd(h, 'apsis-segment', lost, input);
    assert.equal(once.kind, 'completed', JSON.stringify(once));
    assert.equal(once.kind === 'completed' && once.manifest.remote.attempts, 2);

    const v2 = 'v2-202-slow';
    let requestedAt = 0;
    h.script(v2, {
      apsisRequestSegmentReport: (_i, call) => {
        requestedAt = call.at;
        return report('v2', call, 'v2');
      },
      apsisPollSegmentReport: (_i, call) =>
        call.at - requestedAt >= 7 * HOUR
          ? { state: 'stored', file: storedFile('segment-report.csv') }
          : { state: 'notReady', status: 202 },
    });
    const slow = await runToEnd(h, 'apsis-segment', v2, input);
    assert.equal(slow.kind, 'completed', JSON.stringify(slow));
    assert.equal(h.callsOf(v2, 'apsisRequestSegmentReport').length, 1);
  });
});
