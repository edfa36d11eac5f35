import type { ExportClient, ProviderInput, SupportedProvider } from '../../src/client';
import type { Timing } from '../../src/shared/inputs';
import type { Simulator } from '../../src/simulator';
import { exportRequest, type ExportRequest } from '../helpers/export-request';
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
export type Scenario<P extends SupportedProvider = SupportedProvider> = ScenarioRun & ExportRequest<P>;

/** A scenario apart from what it exports (its provider and input, paired by ExportRequest). */
interface ScenarioRun {
  name: string;
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

/** One 429 on a vendor endpoint that says (in its headers or body) when the quota opens again. */
function quotaBlockOnce(
  vendor: 'altcraft' | 'mytracker',
  endpoint: string,
  answer: { headers?: Record<string, string>; body?: unknown },
): Scenario['setup'] {
  return ({ sim }) => sim.faults.add({ vendor, endpoint, kind: 'status', status: 429, ...answer, times: 1 });
}

/** The one input each provider's scenarios export with. */
const INPUTS: { [P in SupportedProvider]: ProviderInput<P> } = {
  altcraft: { sourceType: 'segment', sourceId: 42 },
  'apsis-segment': { section: 'com.example.sec', segments: ['com.example.seg'] },
  'apsis-profile': { exportKey: 'replay@example.test' },
  mytracker: { segmentId: 7001 },
};

function scenario<P extends SupportedProvider>(
  provider: P,
  name: string,
  expect: Scenario['expect'],
  more: Pick<ScenarioRun, 'timing' | 'setup' | 'drive' | 'minRuns'> = {},
): Scenario<P> {
  return { name, ...exportRequest(provider, INPUTS[provider]), expect, ...more };
}

export const SCENARIOS: Scenario[] = [
  // Altcraft
  scenario('altcraft', 'altcraft-happy', 'completed'),
  scenario('altcraft', 'altcraft-gone-links-rerequest', 'completed', {
    setup: ({ sim }) => sim.faults.add({ vendor: 'altcraft', endpoint: 'download', kind: 'status', status: 410 }),
  }),
  // v0.1.0 fails the export when the task fails (only vanished links lead to a new task).
  scenario('altcraft', 'altcraft-failed-task', 'failed', {
    setup: ({ sim }) => (sim.altcraft.config.failTasks = true),
  }),
  scenario('altcraft', 'altcraft-continue-as-new', 'completed', {
    timing: { pollInitialMs: 200, pollMaxMs: 300, pollsPerRun: 2 },
    setup: ({ sim }) => (sim.altcraft.config.taskDurationMs = 8000),
    minRuns: 3,
  }),
  scenario('altcraft', 'altcraft-max-wait', 'failed', {
    timing: { maxWaitMs: 4000 },
    setup: ({ sim }) => (sim.altcraft.config.taskDurationMs = 600_000),
  }),
  // A 429 that says when the quota opens (Retry-After): waited out on one timer, the status call not retried.
  scenario('altcraft', 'altcraft-quota-wait', 'completed', {
    setup: quotaBlockOnce('altcraft', 'status', { headers: { 'Retry-After': '2' } }),
  }),
  scenario('altcraft', 'altcraft-cancel-creating', 'cancelled', {
    setup: ({ sim }) =>
      sim.faults.add({ vendor: 'altcraft', endpoint: 'get_all', kind: 'delay', ms: 600_000, times: Infinity }),
    drive: cancelWhen('creating'),
  }),
  scenario('altcraft', 'altcraft-cancel-polling', 'cancelled', {
    setup: ({ sim }) => (sim.altcraft.config.taskDurationMs = 600_000),
    drive: cancelWhen('waiting', /./),
  }),
  scenario('altcraft', 'altcraft-cancel-downloading', 'cancelled', {
    setup: ({ sim }) => Object.assign(sim.altcraft.config, { downloadBytesPerSec: 200, taskDurationMs: 300 }),
    drive: cancelWhen('downloading'),
  }),

  // APSIS One segment report
  scenario('apsis-segment', 'apsis-segment-happy', 'completed'),
  scenario('apsis-segment', 'apsis-segment-410-rerequest', 'completed', {
    setup: ({ sim }) => (sim.apsis.config.goneFirstReports = 1),
  }),
  scenario('apsis-segment', 'apsis-segment-503-rerequest', 'completed', {
    setup: ({ sim }) => (sim.apsis.config.failFirstReports = 1),
  }),
  scenario('apsis-segment', 'apsis-segment-continue-as-new', 'completed', {
    timing: { pollInitialMs: 200, pollMaxMs: 300, pollsPerRun: 2 },
    setup: ({ sim }) => (sim.apsis.config.reportReadyAfterMs = 8000),
    minRuns: 3,
  }),
  scenario('apsis-segment', 'apsis-segment-cancel-polling', 'cancelled', {
    setup: ({ sim }) => (sim.apsis.config.reportReadyAfterMs = 600_000),
    drive: cancelWhen('waiting', /./),
  }),

  // APSIS One single profile (callback)
  scenario('apsis-profile', 'apsis-profile-callback-after-wait', 'completed', {
    setup: ({ sim }) => (sim.apsis.config.callbackDelayMs = 1000),
  }),
  scenario('apsis-profile', 'apsis-profile-callback-before-wait', 'completed', {
    setup: ({ sim, setApsisDelay }) => {
      sim.apsis.config.callbackDelayMs = 0;
      setApsisDelay((method, p) => (method === 'POST' && p.includes('/export-single/') ? 2000 : 0));
    },
  }),
  scenario('apsis-profile', 'apsis-profile-duplicate-callback', 'completed', {
    setup: ({ sim }) => (sim.apsis.config.duplicateCallback = true),
  }),
  scenario('apsis-profile', 'apsis-profile-410-rerequest', 'completed', {
    setup: ({ sim }) => sim.faults.add({ vendor: 'apsis', endpoint: 'profile-data', kind: 'status', status: 410 }),
  }),
  scenario('apsis-profile', 'apsis-profile-no-callback', 'failed', {
    timing: { maxWaitMs: 6000 },
    setup: ({ sim }) => (sim.apsis.config.omitCallback = true),
  }),
  scenario('apsis-profile', 'apsis-profile-cancel-waiting', 'cancelled', {
    setup: ({ sim }) => (sim.apsis.config.omitCallback = true),
    drive: cancelWhen('waiting'),
  }),

  // myTracker
  scenario('mytracker', 'mytracker-happy', 'completed'),
  scenario('mytracker', 'mytracker-error-occurred-rerequest', 'completed', {
    setup: ({ sim }) => (sim.mytracker.config.errorOccurredTimes = 1),
  }),
  scenario('mytracker', 'mytracker-link-refresh', 'completed', {
    setup: ({ sim }) => sim.faults.add({ vendor: 'mytracker', endpoint: 'download', kind: 'status', status: 410 }),
  }),
  scenario('mytracker', 'mytracker-continue-as-new', 'completed', {
    timing: { pollInitialMs: 200, pollMaxMs: 300, pollsPerRun: 2 },
    setup: ({ sim }) => (sim.mytracker.config.exportDurationMs = 8000),
    minRuns: 3,
  }),
  // myTracker's documented quota answer (the reset in its body, no Retry-After) on a status poll: waited out.
  scenario('mytracker', 'mytracker-quota-wait', 'completed', {
    setup: quotaBlockOnce('mytracker', 'get', {
      body: {
        code: 429,
        message: 'Too Many Requests',
        data: { error: { info: { quotas: [{ name: 'RequestsByUserPerMinute', resetInSecond: 2, exceeded: true }] } } },
      },
    }),
  }),
  scenario('mytracker', 'mytracker-cancel-downloading', 'cancelled', {
    setup: ({ sim }) => Object.assign(sim.mytracker.config, { downloadBytesPerSec: 200, exportDurationMs: 300 }),
    drive: cancelWhen('downloading'),
  }),
];
