import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { createActionActivities } from '../../src/activities/actions';
import type { AltcraftActivities, ApsisActivities, CommonActivities, MyTrackerActivities } from '../../src/activities';
import { downloadsTaskQueue, progressQuery, vendorTaskQueue, type WORKFLOW_TYPES } from '../../src/shared/contract';
import type { ExportProgress } from '../../src/shared/manifest';
import { PROVIDER_SPECS, type ProviderInput, type SupportedProvider } from '../../src/shared/provider-specs';
import type * as workflows from '../../src/workflows';
import type { Vendor } from '../../src/shared/vendors';
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

/** The activities the worker registers, by name (src/activities/index.ts): the doubles stand in for these. */
type Activities = AltcraftActivities & ApsisActivities & MyTrackerActivities & CommonActivities;

/**
 * Activity names the workflows call, per vendor queue; typed against the real activity objects, so a renamed
 * activity breaks compilation here rather than a workflow test at run time.
 */
export const VENDOR_ACTIVITIES = {
  altcraft: ['altcraftCreateExport', 'altcraftTaskStatus', 'altcraftDownload'],
  apsis: ['apsisRequestSegmentReport', 'apsisPollSegmentReport', 'apsisRequestProfileExport', 'apsisDownloadProfile'],
  mytracker: ['mytrackerCreateExport', 'mytrackerExportStatus', 'mytrackerDownload'],
} as const satisfies {
  altcraft: readonly (keyof AltcraftActivities)[];
  apsis: readonly (keyof ApsisActivities)[];
  mytracker: readonly (keyof MyTrackerActivities)[];
} & Record<Vendor, readonly string[]>;
export const COMMON_ACTIVITIES = [
  'removeExportFiles',
  'countTemporalActions',
] as const satisfies readonly (keyof CommonActivities)[];
/** Activities that stream storage links, run on `<queue>-downloads` (src/workflows/activity-options.ts). */
export const DOWNLOAD_ACTIVITIES = [
  'altcraftDownload',
  'mytrackerDownload',
] as const satisfies readonly (keyof Activities)[];
export type ActivityName =
  (typeof VENDOR_ACTIVITIES)[keyof typeof VENDOR_ACTIVITIES][number] | (typeof COMMON_ACTIVITIES)[number];

/** What the real activity `N` takes. */
export type ActivityInput<N extends ActivityName> = Parameters<Activities[N]>[0];
/** What the real activity `N` answers (awaited). */
export type ActivityResult<N extends ActivityName> = Awaited<ReturnType<Activities[N]>>;

/** One attempt of activity `N` as a double saw it. */
export interface CallOf<N extends ActivityName> {
  workflowId: string;
  name: N;
  input: ActivityInput<N>;
  /** Workflow-clock time the attempt was scheduled (skipped time included). */
  at: number;
  attempt: number;
}
/** One attempt of any doubled activity; narrowed by its `name`. */
export type Call = { [N in ActivityName]: CallOf<N> }[ActivityName];

/**
 * A test double for activity `N`: the real activity's input and answer, plus the recorded call. A double under
 * a name no activity has, or one that takes or answers something else, does not compile.
 */
export type Double<N extends ActivityName> = (
  input: ActivityInput<N>,
  call: CallOf<N>,
) => ActivityResult<N> | Promise<ActivityResult<N>>;

/** What the doubles do for one workflow; unset activities of a vendor fail the test loudly. */
export type Script = { [N in ActivityName]?: Double<N> };

/**
 * What an activity without a double in the script does: the clean-up reports it removed the files, and the
 * action count is the real activity (it only reads the workflow's history through the worker's client).
 */
const DEFAULT_DOUBLES: Script = {
  removeExportFiles: () => ({ removed: true }),
  countTemporalActions: (input) => createActionActivities().countTemporalActions(input),
};

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

  /** The calls of one workflow chain, all of them or those of one activity. */
  callsOf(workflowId: string): Call[];
  callsOf<N extends ActivityName>(workflowId: string, name: N): CallOf<N>[];
  callsOf(workflowId: string, name?: ActivityName): Call[] {
    return this.calls.filter((c) => c.workflowId === workflowId && (!name || c.name === name));
  }

  /** The double registered under activity `name`: records the call, then runs the script's double for it. */
  private double<N extends ActivityName>(name: N): (input: ActivityInput<N>) => Promise<ActivityResult<N>> {
    return async (input: ActivityInput<N>): Promise<ActivityResult<N>> => {
      const info = Context.current().info;
      const call: CallOf<N> = {
        workflowId: info.workflowExecution?.workflowId ?? '?',
        name,
        input,
        at: info.currentAttemptScheduledTimestampMs,
        attempt: info.attempt,
      };
      // A CallOf<N> is the Call union's member for N; TypeScript cannot see that while N is still generic.
      this.calls.push(call as Call);
      const handler = (this.scripts.get(call.workflowId) ?? {})[name] ?? DEFAULT_DOUBLES[name];
      if (handler) return handler(input, call);
      throw ApplicationFailure.create({ type: 'NoTestDouble', message: `no double for ${name}`, nonRetryable: true });
    };
  }

  /** The doubles for one worker's activities, each taking and answering what the real activity of its name does. */
  private activities<N extends ActivityName>(names: readonly N[]) {
    const doubles: Partial<Record<N, (input: ActivityInput<N>) => Promise<ActivityResult<N>>>> = {};
    for (const n of names) doubles[n] = this.double(n);
    return doubles;
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
        Worker.create({
          connection,
          taskQueue: vendorTaskQueue(this.taskQueue, vendor as Vendor),
          activities: this.activities(names),
        }),
      ),
    );
    // Storage downloads (myTracker, Altcraft) run on their own queue, without the API's rate limit.
    const downloads = await Worker.create({
      connection,
      taskQueue: downloadsTaskQueue(this.taskQueue),
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

/**
 * The workflow function behind a provider's type name: the name in WORKFLOW_TYPES must be a workflow that
 * src/workflows exports, and the function must take what the provider's input schema reads.
 */
export type ExportWorkflow<P extends SupportedProvider> = (typeof workflows)[(typeof WORKFLOW_TYPES)[P]];
/** Both ways assignable: the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/**
 * Compile-time check that each export workflow takes exactly the provider's input (ProviderInput), so a start
 * through PROVIDER_SPECS' type name with a ProviderInput is a start of that workflow with its own argument.
 */
const INPUTS_AGREE: { [P in SupportedProvider]: Same<Parameters<ExportWorkflow<P>>, [ProviderInput<P>]> } = {
  altcraft: true,
  'apsis-segment': true,
  'apsis-profile': true,
  mytracker: true,
};
void INPUTS_AGREE;
/** Any export workflow (they all answer an ExportManifest). */
type AnyExportWorkflow = ExportWorkflow<SupportedProvider>;

/**
 * Starts provider `P`'s export on the harness's queue under its contract type name (PROVIDER_SPECS), with an
 * input typed as the client's own; time stands still until someone awaits its result.
 */
export function startExport<P extends SupportedProvider>(
  h: Harness,
  provider: P,
  workflowId: string,
  input: ProviderInput<P>,
): Promise<WorkflowHandle<ExportWorkflow<P>>> {
  return h.env.client.workflow.start(PROVIDER_SPECS[provider].workflowType, {
    taskQueue: h.taskQueue,
    workflowId,
    args: [input],
  });
}

/** A handle on an export the harness started, typed as an export workflow (its result is an ExportManifest). */
export function exportHandle(h: Harness, workflowId: string): WorkflowHandle<AnyExportWorkflow> {
  return h.env.client.workflow.getHandle<AnyExportWorkflow>(workflowId);
}

/** Where an export is, through the contract's progress query. */
export function progressOf(handle: WorkflowHandle): Promise<ExportProgress> {
  return handle.query(progressQuery);
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

/** A stored file as the Altcraft download answers it: with the token form that fetched it. */
export function altcraftFile(name: string, bytes = 100): ActivityResult<'altcraftDownload'> {
  return { ...storedFile(name, bytes), tokenForm: 'bearer' };
}

/** Durations (ms) of the timers a history started, in order. */
export function timerDurations(history: temporal.api.history.v1.IHistory): number[] {
  return (history.events ?? [])
    .map((e) => e.timerStartedEventAttributes?.startToFireTimeout)
    .filter((d): d is NonNullable<typeof d> => !!d)
    .map((d) => Number(d.seconds ?? 0) * 1000 + Math.round((d.nanos ?? 0) / 1e6));
}

export const HOUR = 3_600_000;
