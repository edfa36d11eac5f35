import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { ProviderInput, SupportedProvider } from '../../src/shared/provider-specs';
import {
  HOUR,
  Harness,
  progressOf,
  startExport,
  storedFile,
  type ActivityResult,
  type Call,
  type Script,
} from './harness';
import { outcome, running, until } from './run';

/**
 * Cancelling an export in every phase: the workflow cancels what runs, waits until it has stopped, removes the
 * export's files through the common removeExportFiles activity, and ends cancelled.
 */

/** What a case exports, started through the contract with the case's timing. */
interface Export {
  provider: SupportedProvider;
  start(h: Harness, workflowId: string): Promise<WorkflowHandle>;
}

interface Case {
  name: string;
  export: Export;
  /** Doubles; `hang` marks the activity that is in flight when the cancel comes. */
  script(hang: () => Promise<never>): Script;
  /** The moment to cancel. */
  ready(h: Harness, id: string): Promise<boolean> | boolean;
  /** Whether an activity is in flight at the cancel (it must have stopped before the clean-up). */
  hangs: boolean;
}

const called = (name: Call['name']) => (h: Harness, id: string) => h.callsOf(id, name).length > 0;
const report = (_i: unknown, call: Call): ActivityResult<'apsisRequestSegmentReport'> => ({
  reportId: 'rep',
  pollUrl: 'https://api.example/poll/rep',
  pollKind: 'v2',
  validUntil: new Date(call.at + 24 * HOUR).toISOString(),
});
const links = [1, 2, 3].map((n) => ({ link: `https://dl.example/${n}.csv.gz`, expiresAt: 4e9, expired: false }));
// A short heartbeat timeout: the SDK sends heartbeats (and so learns of a cancel) at 80% of it. Create calls
// keep a 30 s leash whatever this says (src/workflows/activity-options.ts createHeartbeatTimeoutMs), so cancelling one takes ~24 s.
const timing = { pollInitialMs: 60_000, heartbeatTimeoutMs: 1000 };

function exportOf<P extends SupportedProvider>(provider: P, input: ProviderInput<P>): Export {
  return { provider, start: (h, workflowId) => startExport(h, provider, workflowId, { timing, ...input }) };
}

const CASES: Case[] = [
  {
    name: 'Altcraft, creating (get_all in flight)',
    export: exportOf('altcraft', { sourceType: 'segment', sourceId: 1 }),
    script: (hang) => ({ altcraftCreateExport: hang }),
    ready: called('altcraftCreateExport'),
    hangs: true,
  },
  {
    name: 'Altcraft, waiting (between polls, on a timer)',
    export: exportOf('altcraft', { sourceType: 'segment', sourceId: 1 }),
    script: () => ({ altcraftCreateExport: () => ({ taskId: 't' }), altcraftTaskStatus: () => running() }),
    ready: called('altcraftTaskStatus'),
    hangs: false,
  },
  {
    name: 'Altcraft, polling (status call in flight)',
    export: exportOf('altcraft', { sourceType: 'segment', sourceId: 1 }),
    script: (hang) => ({ altcraftCreateExport: () => ({ taskId: 't' }), altcraftTaskStatus: hang }),
    ready: called('altcraftTaskStatus'),
    hangs: true,
  },
  {
    name: 'Altcraft, downloading',
    export: exportOf('altcraft', { sourceType: 'segment', sourceId: 1 }),
    script: (hang) => ({
      altcraftCreateExport: () => ({ taskId: 't' }),
      altcraftTaskStatus: () => ({ state: 'done', status: 'completed', urls: ['u1'], total: 1 }),
      altcraftDownload: hang,
    }),
    ready: called('altcraftDownload'),
    hangs: true,
  },
  {
    name: 'APSIS segment, waiting for the report',
    export: exportOf('apsis-segment', { section: 'com.example.sec', segments: ['com.example.seg'] }),
    script: () => ({
      apsisRequestSegmentReport: report,
      apsisPollSegmentReport: () => ({ state: 'notReady', status: 202 }),
    }),
    ready: called('apsisPollSegmentReport'),
    hangs: false,
  },
  {
    name: 'APSIS segment, poll streaming the file',
    export: exportOf('apsis-segment', { section: 'com.example.sec', segments: ['com.example.seg'] }),
    script: (hang) => ({ apsisRequestSegmentReport: report, apsisPollSegmentReport: hang }),
    ready: called('apsisPollSegmentReport'),
    hangs: true,
  },
  {
    name: 'APSIS profile, waiting for the callback',
    export: exportOf('apsis-profile', { exportKey: 'k' }),
    script: () => ({ apsisRequestProfileExport: () => ({ callbackBase: 'https://cb.example/apsis' }) }),
    ready: async (h, id) =>
      (await progressOf(h.env.client.workflow.getHandle(id))).vendorStatus === 'waiting for the APSIS callback',
    hangs: false,
  },
  {
    name: 'myTracker, downloading three files in parallel',
    export: exportOf('mytracker', { segmentId: 4 }),
    script: (hang) => ({
      mytrackerCreateExport: () => ({ exportId: '9' }),
      mytrackerExportStatus: () => ({ state: 'done', status: 'Success!', files: links }),
      mytrackerDownload: (i) => (i.link.endsWith('/1.csv.gz') ? { stored: storedFile(i.fileName) } : hang()),
    }),
    ready: (h, id) => h.callsOf(id, 'mytrackerDownload').length >= 3,
    hangs: true,
  },
];

describe('cancellation in every phase under time skipping', { timeout: 300_000 }, () => {
  let h: Harness;
  before(async () => void (h = await Harness.start('cancel')));
  after(() => h?.close());

  for (const [i, c] of CASES.entries()) {
    test(`${c.name}: stops, removes the files, ends cancelled`, async () => {
      const id = `cancel-${i}`;
      const order: string[] = [];
      // An activity in flight: heartbeats until Temporal delivers the cancel, then stops.
      const hang = async (): Promise<never> => {
        const ctx = Context.current();
        try {
          for (;;) {
            ctx.heartbeat();
            await ctx.sleep(200);
          }
        } finally {
          order.push('activity stopped');
        }
      };
      h.script(id, {
        ...c.script(hang),
        removeExportFiles: () => {
          order.push('files removed');
          return { removed: true };
        },
      });
      const result = await h.run(async () => {
        await c.export.start(h, id);
        await until(`${c.name} to be reached`, () => c.ready(h, id));
        await h.env.client.workflow.getHandle(id).cancel();
        return outcome(h, id);
      });
      assert.equal(result.kind, 'cancelled', JSON.stringify(result));
      const hung = c.hangs ? (c.export.provider === 'mytracker' ? 2 : 1) : 0;
      assert.deepEqual(order, [...Array<string>(hung).fill('activity stopped'), 'files removed']);
      assert.equal(h.callsOf(id, 'removeExportFiles')[0]?.input.workflowId, id);
    });
  }
});
