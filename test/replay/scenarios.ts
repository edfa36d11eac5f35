import type { ExportClient, SupportedProvider } from '../../src/client';
import type { Timing } from '../../src/shared/inputs';
import type { Simulator } from '../../src/simulator';
import { waitFor } from '../helpers/processes';

/** What a scenario may touch while it runs: the simulator, the proxy in front of APSIS, the client. */
export interface ScenarioContext {
  sim: Simulator;
  /** Holds back APSIS answers, e.g. the 202 of a profile request, so a callback overtakes it. */
  setApsisDelay(fn: (method: string, path: string) => number): void;
  client: ExportClient;
}

/**
 * One real run whose history becomes a replay fixture. Together the scenarios walk every path a workflow can
 * take (each vendor's happy path, each re-request, link refresh, callbacks early and late, continue-as-new,
 * deadlines and cancellation in each phase), so a change that breaks any of them fails the replay test.
 */
export interface Scenario {
  name: string;
  provider: SupportedProvider;
  input: Record<string, unknown>;
  timing?: Timing;
  /** Simulator settings and faults for this run (the simulator is reset before each scenario). */
  setup?(ctx: ScenarioContext): void;
  /** Drives the run from outside while it is in flight, e.g. cancels it in a chosen phase. */
  drive?(ctx: ScenarioContext, workflowId: string): Promise<void>;
  /** How the run must end; a recording that ends otherwise is refused (it would not be the path named). */
  expect: 'completed' | 'failed' | 'cancelled';
  /** Runs the recorded chain must have (continue-as-new), at least. */
  minRuns?: number;
}

/** Waits until the export's progress query reports `phase` (and `status`, if given), then cancels it. */
function cancelWhen(phase: string, status?: RegExp): Scenario['drive'] {
  return async ({ client }, workflowId) => {
    await waitFor(
      `${workflowId} to reach ${phase}`,
      async () => {
        const p = (await client.status(workflowId)).progress;
        return p?.phase === phase && (!status || status.test(p.vendorStatus ?? '')) && (p.polls > 0 || !status);
      },
      60_000,
      100,
    );
    await client.cancel(workflowId);
  };
}

const altcraft = { sourceType: 'segment', sourceId: 42 };
const apsisSegment = { section: 'com.example.sec', segments: ['com.example.seg'] };
const apsisProfile = { exportKey: 'replay@example.test' };
const mytracker = { segmentId: 7001 };

export const SCENARIOS: Scenario[] = [
  // Altcraft
  { name: 'altcraft-happy', provider: 'altcraft', input: altcraft, expect: 'completed' },
  {
    name: 'altcraft-gone-links-rerequest',
    provider: 'altcraft',
    input: altcraft,
    setup: ({ sim }) => sim.faults.add({ vendor: 'altcraft', endpoint: 'download', kind: 'status', status: 410 }),
    expect: 'completed',
  },
  {
    // v0.1.0 fails the export when the task fails (only vanished links lead to a new task).
    name: 'altcraft-failed-task',
    provider: 'altcraft',
    input: altcraft,
    setup: ({ sim }) => (sim.altcraft.config.failTasks = true),
    expect: 'failed',
  },
  {
    name: 'altcraft-continue-as-new',
    provider: 'altcraft',
    input: altcraft,
    timing: { pollInitialMs: 200, pollMaxMs: 300, pollsPerRun: 2 },
    setup: ({ sim }) => (sim.altcraft.config.taskDurationMs = 8000),
    expect: 'completed',
    minRuns: 3,
  },
  {
    name: 'altcraft-max-wait',
    provider: 'altcraft',
    input: altcraft,
    timing: { maxWaitMs: 4000 },
    setup: ({ sim }) => (sim.altcraft.config.taskDurationMs = 600_000),
    expect: 'failed',
  },
  {
    name: 'altcraft-cancel-creating',
    provider: 'altcraft',
    input: altcraft,
    setup: ({ sim }) =>
      sim.faults.add({ vendor: 'altcraft', endpoint: 'get_all', kind: 'delay', ms: 600_000, times: Infinity }),
    drive: cancelWhen('creating'),
    expect: 'cancelled',
  },
  {
    name: 'altcraft-cancel-polling',
    provider: 'altcraft',
    input: altcraft,
    setup: ({ sim }) => (sim.altcraft.config.taskDurationMs = 600_000),
    drive: cancelWhen('waiting', /./),
    expect: 'cancelled',
  },
  {
    name: 'altcraft-cancel-downloading',
    provider: 'altcraft',
    input: altcraft,
    setup: ({ sim }) => Object.assign(sim.altcraft.config, { downloadBytesPerSec: 200, taskDurationMs: 300 }),
    drive: cancelWhen('downloading'),
    expect: 'cancelled',
  },

  // APSIS One segment report
  { name: 'apsis-segment-happy', provider: 'apsis-segment', input: apsisSegment, expect: 'completed' },
  {
    name: 'apsis-segment-410-rerequest',
    provider: 'apsis-segment',
    input: apsisSegment,
    setup: ({ sim }) => (sim.apsis.config.goneFirstReports = 1),
    expect: 'completed',
  },
  {
    name: 'apsis-segment-503-rerequest',
    provider: 'apsis-segment',
    input: apsisSegment,
    setup: ({ sim }) => (sim.apsis.config.failFirstReports = 1),
    expect: 'completed',
  },
  {
    name: 'apsis-segment-continue-as-new',
    provider: 'apsis-segment',
    input: apsisSegment,
    timing: { pollInitialMs: 200, pollMaxMs: 300, pollsPerRun: 2 },
    setup: ({ sim }) => (sim.apsis.config.reportReadyAfterMs = 8000),
    expect: 'completed',
    minRuns: 3,
  },
  {
    name: 'apsis-segment-cancel-polling',
    provider: 'apsis-segment',
    input: apsisSegment,
    setup: ({ sim }) => (sim.apsis.config.reportReadyAfterMs = 600_000),
    drive: cancelWhen('waiting', /./),
    expect: 'cancelled',
  },

  // APSIS One single profile (callback)
  {
    name: 'apsis-profile-callback-after-wait',
    provider: 'apsis-profile',
    input: apsisProfile,
    setup: ({ sim }) => (sim.apsis.config.callbackDelayMs = 1000),
    expect: 'completed',
  },
  {
    name: 'apsis-profile-callback-before-wait',
    provider: 'apsis-profile',
    input: apsisProfile,
    setup: ({ sim, setApsisDelay }) => {
      sim.apsis.config.callbackDelayMs = 0;
      setApsisDelay((method, p) => (method === 'POST' && p.includes('/export-single/') ? 2000 : 0));
    },
    expect: 'completed',
  },
  {
    name: 'apsis-profile-duplicate-callback',
    provider: 'apsis-profile',
    input: apsisProfile,
    setup: ({ sim }) => (sim.apsis.config.duplicateCallback = true),
    expect: 'completed',
  },
  {
    name: 'apsis-profile-410-rerequest',
    provider: 'apsis-profile',
    input: apsisProfile,
    setup: ({ sim }) => sim.faults.add({ vendor: 'apsis', endpoint: 'profile-data', kind: 'status', status: 410 }),
    expect: 'completed',
  },
  {
    name: 'apsis-profile-no-callback',
    provider: 'apsis-profile',
    input: apsisProfile,
    timing: { maxWaitMs: 6000 },
    setup: ({ sim }) => (sim.apsis.config.omitCallback = true),
    expect: 'failed',
  },
  {
    name: 'apsis-profile-cancel-waiting',
    provider: 'apsis-profile',
    input: apsisProfile,
    setup: ({ sim }) => (sim.apsis.config.omitCallback = true),
    drive: cancelWhen('waiting'),
    expect: 'cancelled',
  },

  // myTracker
  { name: 'mytracker-happy', provider: 'mytracker', input: mytracker, expect: 'completed' },
  {
    name: 'mytracker-error-occurred-rerequest',
    provider: 'mytracker',
    input: mytracker,
    setup: ({ sim }) => (sim.mytracker.config.errorOccurredTimes = 1),
    expect: 'completed',
  },
  {
    name: 'mytracker-link-refresh',
    provider: 'mytracker',
    input: mytracker,
    setup: ({ sim }) => sim.faults.add({ vendor: 'mytracker', endpoint: 'download', kind: 'status', status: 410 }),
    expect: 'completed',
  },
  {
    name: 'mytracker-continue-as-new',
    provider: 'mytracker',
    input: mytracker,
    timing: { pollInitialMs: 200, pollMaxMs: 300, pollsPerRun: 2 },
    setup: ({ sim }) => (sim.mytracker.config.exportDurationMs = 8000),
    expect: 'completed',
    minRuns: 3,
  },
  {
    name: 'mytracker-cancel-downloading',
    provider: 'mytracker',
    input: mytracker,
    setup: ({ sim }) => Object.assign(sim.mytracker.config, { downloadBytesPerSec: 200, exportDurationMs: 300 }),
    drive: cancelWhen('downloading'),
    expect: 'cancelled',
  },
];
