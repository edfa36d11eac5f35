import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toFailure } from '../../src/activities/as-activity';
import { ClassifiedError } from '../../src/providers/errors';
import { quotaResetOf } from '../../src/providers/quota-reset';
import { FAILURE_TYPES } from '../../src/shared/failure-types';
import { Harness, storedFile, timerDurations, type ActivityResult, type Call } from './harness';
import { runToEnd } from './run';

/**
 * Quota blocks under time skipping (src/workflows/quota-wait.ts): a 429 that says when the quota resets is not
 * retried by the activity; the workflow waits on one timer until the reset plus 1–5 s jitter, with no vendor
 * call in between, and completes; a reset after EXPORTFLOW_MAX_WAIT fails it as VendorTimeout at once.
 */

const link = (n: number) => ({ link: `https://dl.example/${n}.csv.gz`, expiresAt: 4e9, expired: false });
const success: ActivityResult<'mytrackerExportStatus'> = { state: 'done', status: 'Success!', files: [link(1)] };

/** myTracker's documented 429 body. */
function myTrackerBody(resetInSecond: number, name = 'RequestsByUserPerMinute'): string {
  return JSON.stringify({
    code: 429,
    message: 'Too Many Requests',
    data: { error: { info: { quotas: [{ name, count: 101, limit: 100, resetInSecond, exceeded: true }] } } },
  });
}

/**
 * What the activity throws for a 429 answer read at `call.at` on the workflow clock (the test server's skipped
 * time), built by the same classification and translation the real activity uses.
 */
function quota429(call: Call, endpoint: string, headers: Record<string, string>, body: string): unknown {
  const reset = quotaResetOf(headers, body, call.at);
  assert.ok(reset, 'the 429 names its reset');
  return toFailure(
    new ClassifiedError(FAILURE_TYPES.rateLimited, `myTracker ${endpoint} refuses calls over quota`, false, {
      vendor: 'mytracker',
      endpoint,
      status: 429,
      resetAt: reset.resetAt,
    }),
  );
}

describe('vendor quota blocks under time skipping', { timeout: 300_000 }, () => {
  let h: Harness;
  before(async () => void (h = await Harness.start('quota')));
  after(() => h?.close());

  test('myTracker 429 with resetInSecond=75 on a poll: one timer of 76–80 s, no call between, export completes', async () => {
    const id = 'mt-75';
    let polls = 0;
    h.script(id, {
      mytrackerCreateExport: () => ({ exportId: '7' }),
      mytrackerExportStatus: (_i, call) => {
        if (++polls === 1) throw quota429(call, 'get.json', {}, myTrackerBody(75));
        return success;
      },
      mytrackerDownload: (i) => ({ stored: storedFile(i.fileName) }),
    });
    const result = await runToEnd(h, 'mytracker', id, { segmentId: 1 });
    assert.equal(result.kind, 'completed', JSON.stringify(result));

    const statusCalls = h.callsOf(id, 'mytrackerExportStatus');
    assert.equal(statusCalls.length, 2);
    assert.equal(statusCalls[0]!.attempt, 1);
    assert.equal(statusCalls[1]!.attempt, 1, 'the block was not retried by the activity');
    const gap = statusCalls[1]!.at - statusCalls[0]!.at;
    assert.ok(gap >= 76_000 && gap <= 82_000, `next call ${gap} ms after the 429`);
    const between = h.callsOf(id).filter((c) => c.at > statusCalls[0]!.at && c.at < statusCalls[1]!.at);
    assert.deepEqual(between, [], 'no vendor call during the wait');

    const [run] = await h.runs(id);
    const waits = timerDurations(run!).filter((ms) => ms >= 70_000 && ms <= 81_000);
    assert.equal(waits.length, 1, `timers: ${timerDurations(run!).join(', ')}`);

    // API calls carry the account as fairness key on the vendor queue; the download runs on the downloads queue.
    const scheduled = (run!.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a): a is NonNullable<typeof a> => !!a);
    const where = scheduled.map((a) => `${a.activityType?.name}@${a.taskQueue?.name}#${a.priority?.fairnessKey ?? ''}`);
    assert.deepEqual(where, [
      'mytrackerCreateExport@quota-mytracker#default',
      'mytrackerExportStatus@quota-mytracker#default',
      'mytrackerExportStatus@quota-mytracker#default',
      'mytrackerDownload@quota-downloads#',
      // The export's own cost, counted last on the main queue (src/activities/actions.ts).
      'countTemporalActions@quota#',
    ]);
  });

  test('a reset after EXPORTFLOW_MAX_WAIT fails at once as VendorTimeout, without a retry', async () => {
    const id = 'mt-late';
    h.script(id, {
      mytrackerCreateExport: (_i, call) => {
        throw quota429(call, 'create.json', {}, myTrackerBody(3600, 'RequestsByUserPerHour'));
      },
    });
    const result = await runToEnd(h, 'mytracker', id, { segmentId: 1, timing: { maxWaitMs: 600_000 } });
    assert.equal(result.kind, 'failed');
    assert.equal(result.kind === 'failed' && result.type, FAILURE_TYPES.timeout);
    assert.match(
      result.kind === 'failed' ? result.message : '',
      /myTracker refuses calls over its quota \(account default\) until (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC, after this export's EXPORTFLOW_MAX_WAIT deadline/,
    );
    assert.equal(h.callsOf(id, 'mytrackerCreateExport').length, 1, 'one call: no retry spent the error budget');
  });

  test('Retry-After in seconds and as an HTTP date on create.json: each waited out on a timer', async () => {
    for (const form of ['seconds', 'date'] as const) {
      const id = `mt-retry-after-${form}`;
      let creates = 0;
      h.script(id, {
        mytrackerCreateExport: (_i, call) => {
          if (++creates === 1) {
            const value = form === 'seconds' ? '120' : new Date(call.at + 120_000).toUTCString();
            throw quota429(call, 'create.json', { 'retry-after': value }, '{"code":429}');
          }
          return { exportId: '9' };
        },
        mytrackerExportStatus: () => success,
        mytrackerDownload: (i) => ({ stored: storedFile(i.fileName) }),
      });
      const result = await runToEnd(h, 'mytracker', id, { segmentId: 2 });
      assert.equal(result.kind, 'completed', `${form}: ${JSON.stringify(result)}`);
      const creates_ = h.callsOf(id, 'mytrackerCreateExport');
      assert.equal(creates_.length, 2);
      const gap = creates_[1]!.at - creates_[0]!.at;
      // An HTTP date has whole seconds: up to 1 s earlier than the seconds form.
      assert.ok(gap >= 120_000 && gap <= 127_000, `${form}: create again ${gap} ms after the 429`);
    }
  });
});
