import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExportFailedError, type ProviderInput, type SupportedProvider } from '../../src/client';
import type { Simulator } from '../../src/simulator';
import { runCli, waitFor } from '../helpers/processes';
import { startStack, type TestStack } from '../helpers/stack';
import { type Vendor } from '../../src/shared/vendors';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * Cancellation and EXPORTFLOW_MAX_WAIT: an export cancelled while its vendor job is being created, while it polls,
 * while it waits for a callback and while it downloads ends as cancelled with no file, no `.part` and no
 * directory left, no activity pending and no vendor call still running; an export whose vendor never finishes
 * fails at EXPORTFLOW_MAX_WAIT with VendorTimeout. Cases run side by side, each on its own vendor subject.
 */

const HEARTBEAT_MS = 3000;
const timing = { pollInitialMs: 200, pollMaxMs: 600, heartbeatTimeoutMs: HEARTBEAT_MS };
const stillRunning = (status: string, percent: number) => ({
  altcraft: { data: { status, progress: percent }, error: 0, error_text: 'Successful operation' },
  mytracker: { code: 200, message: 'Ok', data: { status, progress: `${percent}%` } },
});

describe('cancellation and EXPORTFLOW_MAX_WAIT', { concurrency: 5 }, () => {
  let stack: TestStack;
  let sim: Simulator;

  before(async () => {
    stack = await startStack('cancel', {
      sim: {
        altcraft: { taskDurationMs: 300, rows: { 'database:77': 400_000 }, downloadBytesPerSec: 400_000 },
        // The profile's code-200 callback comes long after the test has cancelled its export.
        apsis: { reportReadyAfterMs: 0, rows: 200_000, downloadBytesPerSec: 400_000, callbackDelayMs: 120_000 },
        mytracker: { exportDurationMs: 300, files: 3, rowsPerFile: 40_000, downloadBytesPerSec: 60_000 },
      },
    });
    sim = stack.sim;
  });

  after(async () => {
    await stack?.stop();
  });

  const requestsAbout = (vendor: Vendor, subject: string) =>
    sim.requests.filter((r) => r.vendor === vendor && r.subject === subject);

  async function start<P extends SupportedProvider>(
    provider: P,
    input: ProviderInput<P>,
    workflowId: string,
    maxWaitMs = 120_000,
  ) {
    await stack.client.start(provider, { ...input, timing: { ...timing, maxWaitMs } }, { workflowId });
    return workflowId;
  }

  /** The export's end, or its failure; one that does not end within `boundMs` is a hang. */
  async function ending(workflowId: string, boundMs = 60_000): Promise<ExportFailedError | 'completed'> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        stack.client.result(workflowId).then(
          () => 'completed' as const,
          (err: unknown) => {
            if (err instanceof ExportFailedError) return err;
            throw err;
          },
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${workflowId} did not end within ${boundMs} ms`)), boundMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * After the export ended: Temporal lists no pending activity, every vendor call about it has ended (the running
   * one was aborted), its directory is gone, and a few seconds later still nothing new was requested or written.
   */
  async function assertNothingLeft(workflowId: string, vendor: Vendor, subject: string, closed: string) {
    const description = await stack.client.temporal.workflow.getHandle(workflowId).describe();
    assert.equal(description.status.name, closed);
    assert.deepEqual(description.raw.pendingActivities ?? [], [], 'no activity pending after the export closed');
    await waitFor(
      'every vendor call of the export to end',
      () => requestsAbout(vendor, subject).every((r) => r.endedAt !== undefined),
      20_000,
    );
    const calls = requestsAbout(vendor, subject).length;
    const exportDir = path.join(stack.env.EXPORT_DIR!, workflowId);
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS + 1000));
    assert.equal(fs.existsSync(exportDir), false, `${exportDir} (and any .part in it) is gone`);
    assert.equal(requestsAbout(vendor, subject).length, calls, 'no vendor call after the export ended');
  }

  async function assertCancelled(workflowId: string, vendor: Vendor, subject: string) {
    const end = await ending(workflowId);
    assert.ok(end instanceof ExportFailedError, `expected a cancelled export, got ${String(end)}`);
    assert.equal(end.status, 'cancelled', `${end.type}: ${end.message}`);
    await assertNothingLeft(workflowId, vendor, subject, 'CANCELLED');
  }

  /** Resolves once the simulator holds a request about `subject` on `endpoint` that has not been answered. */
  const callInFlight = (vendor: Vendor, subject: string, endpoint: string) =>
    waitFor(`a ${endpoint} call in flight`, () =>
      requestsAbout(vendor, subject).some((r) => r.endpoint === endpoint && r.endedAt === undefined),
    );

  async function downloading(workflowId: string): Promise<void> {
    await waitFor(
      'bytes on disk',
      async () => {
        const status = await stack.client.status(workflowId);
        // An APSIS report streams from its poll URL while the export still says "waiting".
        return status.execution === 'RUNNING' && status.inFlightBytes > 0;
      },
      60_000,
      200,
    );
  }

  test('cancel while creating (Altcraft get_all in flight, via the CLI)', async () => {
    const subject = 'segment:71';
    sim.faults.add({ vendor: 'altcraft', endpoint: 'get_all', subject, kind: 'delay', ms: 60_000 });
    const id = await start('altcraft', { sourceType: 'segment', sourceId: 71 }, 'cancel-creating-altcraft');
    await callInFlight('altcraft', subject, 'get_all');
    const res = await runCli(['cancel', id], stack.env);
    assert.equal(res.code, 0, res.stderr);
    await assertCancelled(id, 'altcraft', subject);
    assert.equal(sim.altcraft.tasks().filter((t) => t.sourceId === 71).length, 0, 'the aborted call created no task');
  });

  test('cancel while creating (myTracker create.json in flight)', async () => {
    const subject = '7101';
    sim.faults.add({ vendor: 'mytracker', endpoint: 'create', subject, kind: 'delay', ms: 60_000 });
    const id = await start('mytracker', { segmentId: 7101 }, 'cancel-creating-mytracker');
    await callInFlight('mytracker', subject, 'create');
    await stack.client.cancel(id);
    await assertCancelled(id, 'mytracker', subject);
  });

  test('cancel while waiting for the vendor (Altcraft task never finishes)', async () => {
    const subject = 'segment:72';
    const body = stillRunning('processing', 10).altcraft;
    sim.faults.add({ vendor: 'altcraft', endpoint: 'status', subject, kind: 'json', body, times: Infinity });
    const id = await start('altcraft', { sourceType: 'segment', sourceId: 72 }, 'cancel-waiting-altcraft');
    await waitFor(
      'two status polls',
      () => requestsAbout('altcraft', subject).filter((r) => r.endpoint === 'status').length >= 2,
    );
    await stack.client.cancel(id);
    await assertCancelled(id, 'altcraft', subject);
  });

  test('cancel while waiting for the vendor (APSIS report never ready)', async () => {
    const subject = 'com.cancel.wait';
    sim.faults.add({
      vendor: 'apsis',
      endpoint: 'poll',
      subject,
      kind: 'status',
      status: 202,
      body: '',
      times: Infinity,
    });
    const id = await start('apsis-segment', { section: subject, segments: ['com.cancel.seg'] }, 'cancel-waiting-apsis');
    await waitFor('two polls', () => requestsAbout('apsis', subject).filter((r) => r.endpoint === 'poll').length >= 2);
    await stack.client.cancel(id);
    await assertCancelled(id, 'apsis', subject);
  });

  test('cancel while waiting for the APSIS callback', async () => {
    const subject = 'cancel-callback@example.test';
    const id = await start('apsis-profile', { exportKey: subject }, 'cancel-callback-wait');
    await waitFor('the export to wait for its callback', async () => {
      const p = (await stack.client.status(id)).progress;
      return p?.phase === 'waiting' && /callback/.test(p.vendorStatus ?? '');
    });
    await stack.client.cancel(id);
    await assertCancelled(id, 'apsis', subject);
  });

  test('cancel while downloading (Altcraft, one large file)', async () => {
    const id = await start('altcraft', { sourceType: 'database', sourceId: 77 }, 'cancel-downloading-altcraft');
    await downloading(id);
    await stack.client.cancel(id);
    await assertCancelled(id, 'altcraft', 'database:77');
  });

  test('cancel while downloading (APSIS report streamed by its poll)', async () => {
    const subject = 'com.cancel.download';
    const id = await start(
      'apsis-segment',
      { section: subject, segments: ['com.cancel.big'] },
      'cancel-downloading-apsis',
    );
    await downloading(id);
    await stack.client.cancel(id);
    await assertCancelled(id, 'apsis', subject);
  });

  test('cancel while downloading (myTracker, three files at once)', async () => {
    const id = await start('mytracker', { segmentId: 7103 }, 'cancel-downloading-mytracker');
    await downloading(id);
    await stack.client.cancel(id);
    await assertCancelled(id, 'mytracker', '7103');
  });

  test('a vendor that never finishes: EXPORTFLOW_MAX_WAIT=5s ends the export with VendorTimeout (CLI)', async () => {
    const subject = 'segment:73';
    const body = stillRunning('processing', 42).altcraft;
    sim.faults.add({ vendor: 'altcraft', endpoint: 'status', subject, kind: 'json', body, times: Infinity });
    const started = Date.now();
    const res = await runCli(
      [
        'export',
        'altcraft',
        '--source-type',
        'segment',
        '--source-id',
        '73',
        '--id',
        'maxwait-altcraft',
        '--wait',
        '--json',
      ],
      { ...stack.env, EXPORTFLOW_MAX_WAIT: '5s' },
      90_000,
    );
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout) as { status: string; error: { type: string; message: string } };
    assert.equal(out.status, 'failed');
    assert.equal(out.error.type, FAILURE_TYPES.timeout);
    assert.match(
      out.error.message,
      /^Altcraft task task_\S+ did not finish within EXPORTFLOW_MAX_WAIT \(5s\) \(last status "processing", 42%\)$/,
    );
    assert.ok(Date.now() - started < 60_000, 'ended at its deadline, not hours later');
    await assertNothingLeft('maxwait-altcraft', 'altcraft', subject, 'FAILED');
  });

  test('a vendor that never finishes: myTracker "In progress" forever ends with VendorTimeout', async () => {
    const subject = '7104';
    const body = stillRunning('In progress', 99).mytracker;
    sim.faults.add({ vendor: 'mytracker', endpoint: 'get', subject, kind: 'json', body, times: Infinity });
    // 12 s, not 5: create.json and each get.json pass the myTracker queue's 1.5 activities/s, and on a loaded
    // machine 5 s once ran out before the first status came back ("(no status)").
    const id = await start('mytracker', { segmentId: 7104 }, 'maxwait-mytracker', 12_000);
    const end = await ending(id);
    assert.ok(end instanceof ExportFailedError);
    assert.equal(end.type, FAILURE_TYPES.timeout);
    assert.match(
      end.message,
      /myTracker export \d+ did not finish within EXPORTFLOW_MAX_WAIT \(12s\) \(last status "In progress", 99%\)/,
    );
    await assertNothingLeft(id, 'mytracker', subject, 'FAILED');
  });

  test('a vendor that never finishes: an APSIS report that stays "not ready" ends with VendorTimeout', async () => {
    const subject = 'com.maxwait';
    sim.faults.add({
      vendor: 'apsis',
      endpoint: 'poll',
      subject,
      kind: 'status',
      status: 202,
      body: '',
      times: Infinity,
    });
    const id = await start('apsis-segment', { section: subject, segments: ['com.maxwait.seg'] }, 'maxwait-apsis', 5000);
    const end = await ending(id);
    assert.ok(end instanceof ExportFailedError);
    assert.equal(end.type, FAILURE_TYPES.timeout);
    assert.match(
      end.message,
      /APSIS One report \S+ did not finish within EXPORTFLOW_MAX_WAIT \(5s\) \(last status "not ready \(HTTP 202\)"\)/,
    );
    await assertNothingLeft(id, 'apsis', subject, 'FAILED');
  });
});
