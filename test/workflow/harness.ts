import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { createActionActivities } from '../../src/activities/actions';
import type { ManifestFile } from '../../src/shared/manifest';
import { EXPORT_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { workflowBundleName } from '../../src/worker/bundle-name';
import { WORKFLOW_INTERCEPTOR_MODULES, workflowSpansDropped } from '../../src/telemetry';

/**
 * Workflow logic under Temporal's time-skipping test server: the real workflows from src/workflows, with every
 * activity replaced by a test double (a plain function under the activity's real name, on the queue the workflow
 * sends it to: vendor activities on `<queue>-<vendor>`, removeExportFiles on the main queue). A day of vendor
 * time passes in seconds, and every call is recorded with its workflow-clock time.
 */

const REPO = path.resolve(__dirname, '..', '..');

/** Activity names, as exported by src/activities/*.ts; the doubles must match them exactly. */
export const VENDOR_ACTIVITIES = {
  altcraft: ['altcraftCreateExport', 'altcraftTaskStatus', 'altcraftDownload'],
  apsis: ['apsisRequestSegmentReport', 'apsisPollSegmentReport', 'apsisRequestProfileExport', 'apsisDownloadProfile'],
  mytracker: ['mytrackerCreateExport', 'mytrackerExportStatus', 'mytrackerDownload'],
} as const;
export const COMMON_ACTIVITIES = ['removeExportFiles', 'countTemporalActions'] as const;
/** Activities that stream storage links, run on `<queue>-downloads` (src/workflows/activity-options.ts). */
export const DOWNLOAD_ACTIVITIES = ['altcraftDownload', 'mytrackerDownload'] as const;
type ActivityName =
  (typeof VENDOR_ACTIVITIES)[keyof typeof VENDOR_ACTIVITIES][number] | (typeof COMMON_ACTIVITIES)[number];

export interface Call {
  workflowId: string;
  name: ActivityName;
  input: Record<string, unknown>;
  /** Workflow-clock time the attempt was scheduled (skipped time included). */
  at: number;
  attempt: number;
}

/** What a double does for one workflow; unset activities of a vendor fail the test loudly. */
export type Script = Partial<Record<ActivityName, (input: never, call: Call) => unknown>>;

/** The time-skipping server: $TEMPORAL_TEST_SERVER_PATH (set by scripts/test), else the project's own install. */
export function testServerPath(): string {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) return fromEnv;
  return execFileSync('bash', [path.join(REPO, 'scripts', 'ensure-test-server')], { encoding: 'utf8' }).trim();
}

/**
 * The workflow code under test: the bundle `scripts/test` prebuilt from this tree (EXPORTFLOW_WORKFLOW_BUNDLE_DIR,
 * stamped with a hash of src/), or, when a file runs on its own, a fresh webpack bundle of src/workflows.
 */
async function workflowBundle(): Promise<WorkflowBundleOption> {
  const dir = process.env.EXPORTFLOW_WORKFLOW_BUNDLE_DIR;
  if (dir) return { codePath: path.join(dir, workflowBundleName(false)) };
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: new DefaultLogger('WARN'),
  });
}

let installed = false;

export class Harness {
  readonly calls: Call[] = [];
  private readonly scripts = new Map<string, Script>();
  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly taskQueue: string,
    private readonly bundle: WorkflowBundleOption,
  ) {}

  static async start(taskQueue = 'exportflow-test'): Promise<Harness> {
    if (!installed) {
      // The tests fail activities and workflows on purpose: the SDK's WARN for each (and core's notes about the
      // test server's capabilities) would bury a real failure in the runner's output. Errors still show.
      Runtime.install({
        logger: new DefaultLogger('ERROR'),
        telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
      });
      installed = true;
    }
    const [env, bundle] = await Promise.all([
      TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: testServerPath() } },
      }),
      workflowBundle(),
    ]);
    // The workflows set exportflow's search attributes. The test server implements AddSearchAttributes but not
    // ListSearchAttributes, which src/temporal/setup.ts needs, so they are added here directly.
    const { KEYWORD, INT } = {
      KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
    };
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(
        Object.values(EXPORT_SEARCH_ATTRIBUTES).map((k) => [k.name, k.type === 'INT' ? INT : KEYWORD]),
      ),
    });
    return new Harness(env, taskQueue, bundle);
  }

  /** Sets what the doubles do for one workflow id (its whole continue-as-new chain). */
  script(workflowId: string, script: Script): void {
    this.scripts.set(workflowId, script);
  }

  callsOf(workflowId: string, name?: ActivityName): Call[] {
    return this.calls.filter((c) => c.workflowId === workflowId && (!name || c.name === name));
  }

  private double(name: ActivityName) {
    return async (input: Record<string, unknown>): Promise<unknown> => {
      const info = Context.current().info;
      const call: Call = {
        workflowId: info.workflowExecution?.workflowId ?? '?',
        name,
        input,
        at: info.currentAttemptScheduledTimestampMs,
        attempt: info.attempt,
      };
      this.calls.push(call);
      const script = this.scripts.get(call.workflowId) ?? {};
      const handler = script[name];
      if (handler) return (handler as (i: unknown, c: Call) => unknown)(input, call);
      if (name === 'removeExportFiles') return { removed: true };
      // The real activity: it only reads the workflow's history through the worker's client.
      if (name === 'countTemporalActions')
        return createActionActivities().countTemporalActions(input as { workflowId: string; runId: string });
      throw ApplicationFailure.create({ type: 'NoTestDouble', message: `no double for ${name}`, nonRetryable: true });
    };
  }

  private activities(names: readonly ActivityName[]): Record<string, (input: Record<string, unknown>) => unknown> {
    return Object.fromEntries(names.map((n) => [n, this.double(n)]));
  }

  /** Runs `fn` while a workflow worker (main queue) and one activity worker per vendor queue poll. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const { nativeConnection: connection } = this.env;
    const main = await Worker.create({
      connection,
      taskQueue: this.taskQueue,
      workflowBundle: this.bundle,
      activities: this.activities(COMMON_ACTIVITIES),
      sinks: workflowSpansDropped(),
    });
    const vendors = await Promise.all(
      Object.entries(VENDOR_ACTIVITIES).map(([vendor, names]) =>
        Worker.create({ connection, taskQueue: `${this.taskQueue}-${vendor}`, activities: this.activities(names) }),
      ),
    );
    // Storage downloads (myTracker, Altcraft) run on their own queue, without the API's rate limit.
    const downloads = await Worker.create({
      connection,
      taskQueue: `${this.taskQueue}-downloads`,
      activities: this.activities(DOWNLOAD_ACTIVITIES),
    });
    const all = [main, ...vendors, downloads];
    // runUntil stops each worker once fn settles; the others follow through the shared promise.
    const body = fn();
    const results = await Promise.allSettled(all.map((w) => w.runUntil(body)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return body;
  }

  async close(): Promise<void> {
    await this.env.teardown();
  }

  /** Every run of a workflow chain (continue-as-new), first run first, with its history. */
  async runs(workflowId: string): Promise<temporal.api.history.v1.IHistory[]> {
    const out: temporal.api.history.v1.IHistory[] = [];
    let runId: string | undefined;
    for (;;) {
      const history = await this.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      out.unshift(history);
      runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
      if (!runId) return out;
    }
  }
}

/** A stored file as a download double returns it. */
export function storedFile(name: string, bytes = 100): ManifestFile {
  return {
    path: `/exports/${name}`,
    name,
    bytes,
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    contentType: 'text/csv',
    encoding: null,
    rows: 1,
  };
}

/** Durations (ms) of the timers a history started, in order. */
export function timerDurations(history: temporal.api.history.v1.IHistory): number[] {
  return (history.events ?? [])
    .map((e) => e.timerStartedEventAttributes?.startToFireTimeout)
    .filter((d): d is NonNullable<typeof d> => !!d)
    .map((d) => Number(d.seconds ?? 0) * 1000 + Math.round((d.nanos ?? 0) / 1e6));
}

export const HOUR = 3_600_000;
