import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FAILURE_TYPES, finalFailure } from '../../src/shared/failure-types';
import type { MyTrackerLink } from '../../src/providers/mytracker/client';
import { apsisCallbackSignal } from '../../src/shared/contract';
import {
  HOUR,
  Harness,
  altcraftFile,
  progressOf,
  startExport,
  storedFile,
  timerDurations,
  type ActivityResult,
  type Call,
} from './harness';
import { outcome, runToEnd, until } from './run';

/**
 * Each vendor's re-request path and its limit (MAX_REMOTE_ATTEMPTS = 3), myTracker's link refresh and expiry,
 * and the APSIS single-profile callback: early, late, duplicated, never. Activities are test doubles.
 */

const gone = (what: string) => () => {
  throw finalFailure(FAILURE_TYPES.gone, `${what} is gone (HTTP 410)`);
};
const segmentInput = { section: 'com.example.sec', segments: ['com.example.seg'] };
const report = (id: string, call: Call): ActivityResult<'apsisRequestSegmentReport'> => ({
  reportId: id,
  pollUrl: `https://api.example/poll/${id}`,
  pollKind: 'v2',
  validUntil: new Date(call.at + 24 * HOUR).toISOString(),
});
const link = (n: number, expired = false) => ({ link: `https://dl.example/${n}.csv.gz`, expiresAt: 4e9, expired });
const success = (links: MyTrackerLink[]): ActivityResult<'mytrackerExportStatus'> => ({
  state: 'done',
  status: 'Success!',
  files: links,
});

describe('vendor paths under time skipping', { timeout: 300_000 }, () => {
  let h: Harness;
  before(async () => void (h = await Harness.start('paths')));
  after(() => h?.close());

  test('Altcraft: vanished download links lead to a new task, at most 3 tasks, cleaning up before each', async () => {
    let tasks = 0;
    h.script('ac-gone-once', {
      altcraftCreateExport: () => ({ taskId: `t${++tasks}` }),
      altcraftTaskStatus: () => ({ state: 'done', status: 'completed', urls: ['u1', 'u2'], total: 2 }),
      altcraftDownload: (i, call) =>
        tasks === 1 && i.url === 'u2' ? gone('the file')() : altcraftFile(`${call.attempt}-${i.fileName}`),
    });
    const once = await runToEnd(h, 'altcraft', 'ac-gone-once', { sourceType: 'database', sourceId: 3 });
    assert.equal(once.kind, 'completed', JSON.stringify(once));
    assert.equal(once.kind === 'completed' && once.manifest.remote.attempts, 2);
    assert.equal(once.kind === 'completed' && once.manifest.files.length, 2, 'files of the spent task are not kept');
    assert.equal(h.callsOf('ac-gone-once', 'removeExportFiles').length, 1);

    h.script('ac-gone-always', {
      altcraftCreateExport: () => ({ taskId: 'tx' }),
      altcraftTaskStatus: () => ({ state: 'done', status: 'completed', urls: ['u1'], total: 1 }),
      altcraftDownload: gone('the file'),
    });
    const always = await runToEnd(h, 'altcraft', 'ac-gone-always', { sourceType: 'database', sourceId: 3 });
    assert.equal(always.kind === 'failed' && always.type, FAILURE_TYPES.gone);
    assert.match(
      always.kind === 'failed' ? always.message : '',
      /is gone.*\(gave up after requesting the task 3 times\)/,
    );
    assert.equal(h.callsOf('ac-gone-always', 'altcraftCreateExport').length, 3);
    // Two clean-ups before the re-requests, one when the export fails.
    assert.equal(h.callsOf('ac-gone-always', 'removeExportFiles').length, 3);
  });

  test('APSIS segment: a report gone (410) or failed (503) is requested again, at most 3 times', async () => {
    for (const type of [FAILURE_TYPES.gone, FAILURE_TYPES.jobFailed]) {
      const id = `seg-${type}`;
      let reports = 0;
      h.script(id, {
        apsisRequestSegmentReport: (_i, call) => report(`rep-${++reports}`, call),
        apsisPollSegmentReport: () => {
          throw finalFailure(type, `APSIS says no (${type})`);
        },
      });
      const result = await runToEnd(h, 'apsis-segment', id, segmentInput);
      assert.equal(result.kind === 'failed' && result.type, type);
      assert.match(result.kind === 'failed' ? result.message : '', /gave up after requesting the report 3 times/);
      assert.equal(h.callsOf(id, 'apsisRequestSegmentReport').length, 3);
      assert.deepEqual(
        h.callsOf(id, 'apsisPollSegmentReport').map((c) => (c.input.report as { reportId: string }).reportId),
        ['rep-1', 'rep-2', 'rep-3'],
      );
    }
  });

  test('myTracker: "Error occurred" 3 polls in a row spends the export; a new one is created, at most 3', async () => {
    let exports = 0;
    h.script('mt-error', {
      mytrackerCreateExport: () => ({ exportId: String(100 + ++exports) }),
      mytrackerExportStatus: (i) =>
        i.exportId === '103' ? success([link(1)]) : { state: 'errorOccurred', status: 'Error occurred' },
      mytrackerDownload: (i) => ({ stored: storedFile(i.fileName) }),
    });
    const third = await runToEnd(h, 'mytracker', 'mt-error', { segmentId: 5 });
    assert.equal(third.kind, 'completed', JSON.stringify(third));
    assert.equal(third.kind === 'completed' && third.manifest.remote.id, '103');
    assert.equal(h.callsOf('mt-error', 'mytrackerExportStatus').length, 3 + 3 + 1);

    h.script('mt-error-always', {
      mytrackerCreateExport: () => ({ exportId: '200' }),
      mytrackerExportStatus: () => ({ state: 'errorOccurred', status: 'Error occurred' }),
    });
    const never = await runToEnd(h, 'mytracker', 'mt-error-always', { segmentId: 5 });
    assert.equal(never.kind === 'failed' && never.type, FAILURE_TYPES.jobFailed);
    assert.match(
      never.kind === 'failed' ? never.message : '',
      /export 200 cannot deliver: .*"Error occurred" 3 polls.*\(gave up after requesting an export of segment 5 3 times\)/,
    );
    assert.equal(h.callsOf('mt-error-always', 'mytrackerCreateExport').length, 3);
  });

  test('myTracker: an expired link is refreshed by get.json on the same export; links that stay dead spend it', async () => {
    let refreshed = false;
    h.script('mt-refresh', {
      mytrackerCreateExport: () => ({ exportId: '300' }),
      mytrackerExportStatus: () => success([link(1), link(2)]),
      mytrackerDownload: (i) => {
        if (i.link.endsWith('/2.csv.gz') && !refreshed) {
          refreshed = true;
          return { expired: 'link answered 410' };
        }
        return { stored: storedFile(i.fileName) };
      },
    });
    const ok = await runToEnd(h, 'mytracker', 'mt-refresh', { segmentId: 6 });
    assert.equal(ok.kind, 'completed', JSON.stringify(ok));
    assert.equal(h.callsOf('mt-refresh', 'mytrackerCreateExport').length, 1);
    assert.equal(h.callsOf('mt-refresh', 'mytrackerExportStatus').length, 2, 'one get.json more, for fresh links');
    assert.equal(ok.kind === 'completed' && ok.manifest.files.length, 2);

    // A refresh that lists links already expired: this export cannot deliver, so a new one is made.
    let exports = 0;
    h.script('mt-expired', {
      mytrackerCreateExport: () => ({ exportId: String(400 + ++exports) }),
      mytrackerExportStatus: (i) => success([link(1, i.exportId === '401')]),
      mytrackerDownload: (i) => ({ stored: storedFile(i.fileName) }),
    });
    const renewed = await runToEnd(h, 'mytracker', 'mt-expired', { segmentId: 6 });
    assert.equal(renewed.kind === 'completed' && renewed.manifest.remote.id, '402');
    assert.equal(renewed.kind === 'completed' && renewed.manifest.remote.attempts, 2);

    // Links that never work: 3 refreshes per export, 3 exports, then a clear failure.
    h.script('mt-dead', {
      mytrackerCreateExport: () => ({ exportId: '500' }),
      mytrackerExportStatus: () => success([link(1)]),
      mytrackerDownload: () => ({ expired: 'link answered 403' }),
    });
    const dead = await runToEnd(h, 'mytracker', 'mt-dead', { segmentId: 6 });
    assert.equal(dead.kind === 'failed' && dead.type, FAILURE_TYPES.jobFailed);
    assert.match(dead.kind === 'failed' ? dead.message : '', /still failed after 3 refreshes/);
    assert.equal(h.callsOf('mt-dead', 'mytrackerCreateExport').length, 3);
    assert.equal(h.callsOf('mt-dead', 'mytrackerDownload').length, 3 * 4);
  });

  test('APSIS profile: a callback before or after the wait completes it; duplicates and code 100 are ignored', async () => {
    const signal = (id: string, code: number, message: string) =>
      h.env.client.workflow.getHandle(id).signal(apsisCallbackSignal, { code, message });
    const script = (id: string, early: boolean) =>
      h.script(id, {
        apsisRequestProfileExport: async () => {
          // Early: APSIS calls back before its 202 has even reached the activity.
          if (early) await signal(id, 200, 'https://api.example/data/p-early');
          return { callbackBase: 'https://cb.example/apsis' };
        },
        apsisDownloadProfile: (i) => storedFile(i.fileName),
      });

    script('prof-early', true);
    const early = await runToEnd(h, 'apsis-profile', 'prof-early', { exportKey: 'k1' });
    assert.equal(early.kind === 'completed' && early.manifest.remote.id, 'p-early');
    assert.equal(timerDurations((await h.runs('prof-early'))[0]!).length <= 1, true);

    script('prof-late', false);
    const late = await h.run(async () => {
      const handle = await startExport(h, 'apsis-profile', 'prof-late', { exportKey: 'k2' });
      await until('the workflow to wait for the callback', async () => {
        const p = await progressOf(handle);
        return p.vendorStatus === 'waiting for the APSIS callback';
      });
      await signal('prof-late', 100, 'export started');
      await signal('prof-late', 200, 'https://api.example/data/p-late');
      await signal('prof-late', 200, 'https://api.example/data/p-late');
      await signal('prof-late', 200, 'https://api.example/data/p-other');
      return outcome(h, 'prof-late');
    });
    assert.equal(late.kind === 'completed' && late.manifest.remote.id, 'p-late');
    assert.equal(h.callsOf('prof-late', 'apsisRequestProfileExport').length, 1);
    assert.deepEqual(
      h.callsOf('prof-late', 'apsisDownloadProfile').map((c) => c.input.dataUrl),
      ['https://api.example/data/p-late'],
    );
  });

  test('APSIS profile: no callback within its share of EXPORTFLOW_MAX_WAIT: asked 3 times (8 h each), then VendorTimeout', async () => {
    h.script('prof-silent', {
      apsisRequestProfileExport: () => ({ callbackBase: 'https://cb.example/apsis' }),
    });
    const result = await runToEnd(h, 'apsis-profile', 'prof-silent', { exportKey: 'k3' });
    assert.equal(result.kind === 'failed' && result.type, FAILURE_TYPES.timeout);
    assert.match(
      result.kind === 'failed' ? result.message : '',
      /never called back .*requested 3 times, waited up to 28800s each.*https:\/\/cb\.example\/apsis/,
    );
    const requests = h.callsOf('prof-silent', 'apsisRequestProfileExport');
    assert.equal(requests.length, 3);
    // The last wait ends at the export's deadline, which started counting a moment before the first request.
    const waits = timerDurations((await h.runs('prof-silent'))[0]!);
    assert.deepEqual(waits.slice(0, 2), [8 * HOUR, 8 * HOUR]);
    assert.ok(
      waits.length === 3 && waits[2]! <= 8 * HOUR && waits[2]! > 8 * HOUR - 60_000,
      `waits ${waits.join(', ')}`,
    );
    assert.ok(requests[2]!.at - requests[0]!.at >= 16 * HOUR);

    // A gone data URL is requested again and still bounded by 3 requests.
    let n = 0;
    h.script('prof-gone', {
      apsisRequestProfileExport: async () => {
        await h.env.client.workflow
          .getHandle('prof-gone')
          .signal(apsisCallbackSignal, { code: 200, message: `https://api.example/data/g${++n}` });
        return { callbackBase: 'https://cb.example/apsis' };
      },
      apsisDownloadProfile: gone('the profile data'),
    });
    const goneResult = await runToEnd(h, 'apsis-profile', 'prof-gone', { exportKey: 'k4' });
    assert.equal(goneResult.kind === 'failed' && goneResult.type, FAILURE_TYPES.gone);
    assert.match(
      goneResult.kind === 'failed' ? goneResult.message : '',
      /gone.*\(gave up after requesting the profile export 3 times\)/,
    );
    assert.equal(h.callsOf('prof-gone', 'apsisRequestProfileExport').length, 3);
  });
});
