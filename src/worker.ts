import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createCommonActivities, createVendorActivities } from './activities';
import { startCallbackService, withBoundCallbackUrl } from './callbacks';
import { ConfigError, type Config } from './config';
import type { Logger } from './logger';
import { METRIC_NAMES, VENDOR_CALL_BUCKETS_MS, installVendorMetrics } from './metrics';
import { ensureSearchAttributes, NamespaceNotReadyError } from './temporal-setup';
import { connectNative } from './temporal/native';
import { exportflowDataConverter } from './temporal/data-converter';
import type { MissingCodecKeyError } from './temporal/codec';
import { vendorTaskQueue } from './shared/contract';
import { workflowBundleName } from './workflow-bundle-name';
import { beginDraining, resetDraining, shutdownOptions } from './worker/shutdown';
import { versioningOptions } from './worker/versioning';
import { WORKFLOW_INTERCEPTOR_MODULES, shutdownTracing, workerTracing } from './telemetry';

/** Per-vendor activity limits: one task queue per vendor, so the limit holds across every worker. */
export const VENDOR_LIMITS = {
  altcraft: { maxActivitiesPerSecond: 5, maxConcurrent: 20 },
  apsis: { maxActivitiesPerSecond: 5, maxConcurrent: 20 },
  // myTracker allows 10/s and 100/min per API user; 1.5/s stays inside the per-minute quota too.
  mytracker: { maxActivitiesPerSecond: 1.5, maxConcurrent: 10 },
} as const;

/** Longest gap between two heartbeats of a running vendor activity (see maxHeartbeatThrottleInterval below). */
const HEARTBEAT_EVERY_MS = 2000;

let runtimeInstalled = false;

/**
 * Where the main worker gets its workflow code. `npm run build` writes dist/workflow-bundle.js beside
 * dist/worker.js, so only a worker running from dist/ finds a bundle (built together with that JavaScript);
 * from sources (src/worker.ts through tsx) there is none beside it, and the worker bundles src/workflows at
 * start, so editing a workflow never meets a stale bundle. EXPORTFLOW_WORKFLOW_BUNDLE_DIR names a directory of
 * bundles built by scripts/bundle-workflows.ts instead (the test command builds one per source tree, so its
 * dozens of worker starts skip webpack); a directory without the needed bundle is a configuration error.
 */
export function workflowSource(
  encodedFailures: boolean,
  bundleDir?: string,
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const name = workflowBundleName(encodedFailures);
  if (bundleDir) {
    const codePath = path.join(bundleDir, name);
    if (!fs.existsSync(codePath)) {
      throw new ConfigError(
        `invalid configuration: EXPORTFLOW_WORKFLOW_BUNDLE_DIR: ${bundleDir} has no ${name} ` +
          '(build it with `node --import tsx scripts/bundle-workflows.ts <dir>`, or unset the variable)',
      );
    }
    return { workflowBundle: { codePath } };
  }
  const codePath = path.join(__dirname, name);
  if (fs.existsSync(codePath)) return { workflowBundle: { codePath } };
  return { workflowsPath: require.resolve('./workflows') };
}

/**
 * Routes the SDK's own logs into our JSON logger (its chatter only at debug), and serves Prometheus metrics
 * (SDK metrics plus exportflow's own) on METRICS_LISTEN when set.
 */
export function installRuntime(logger: Logger, metricsListen?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const verbose = logger.level === 'debug' || logger.level === 'trace';
  Runtime.install({
    logger: new DefaultLogger(verbose ? 'DEBUG' : 'WARN', (entry) => {
      if (/No (workflows|activities) registered|No Nexus services/.test(entry.message)) return;
      const method =
        entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      logger[method]({ sdk: true, ...(entry.meta ?? {}) }, entry.message);
    }),
    // The CLI handles SIGTERM/SIGINT itself (RunningWorker.shutdown), so downloads learn of the stop first.
    shutdownSignals: [],
    ...(metricsListen
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: metricsListen,
                countersTotalSuffix: true,
                histogramBucketOverrides: { [METRIC_NAMES.callDuration]: VENDOR_CALL_BUCKETS_MS },
              },
            },
          },
        }
      : {}),
  });
  installVendorMetrics(Runtime.instance().metricMeter);
}

export interface RunningWorker {
  /** Resolves when every worker has shut down. */
  done: Promise<void>;
  /** Stops polling, lets running activities finish or heartbeat-fail, and resolves when stopped. */
  shutdown(): Promise<void>;
  /** host:port the APSIS callback receiver listens on (CALLBACK_LISTEN; its real port when that said 0). */
  callbackAddress: string;
}

/**
 * Starts the exportflow worker: workflows and common activities on the main task queue, each vendor's activities
 * on `<queue>-<vendor>` with that vendor's rate limit.
 */
export async function startWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  // Checked before dialling: a bundle directory without the needed bundle is a configuration error.
  const workflows = workflowSource(config.codecKeys.length > 0, config.workflowBundleDir);
  installRuntime(logger, config.metricsListen);
  resetDraining();
  const connection: NativeConnection = await connectNative(config.temporal);
  // A payload under a key this worker lacks would fail every task it touches, over and over: stop instead.
  const workers: Worker[] = [];
  let missingKey: MissingCodecKeyError | undefined;
  const dataConverter = exportflowDataConverter(config.codecKeys, (err) => {
    if (missingKey) return;
    missingKey = err;
    logger.fatal({ err: err.message }, 'stopping the worker: EXPORTFLOW_CODEC_KEYS lacks a key');
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  });
  // A namespace without our search attributes fails every export at its start: refuse to run on one.
  // (When even listing them is refused, nothing says what is missing: warn and run, as before.)
  const added = await ensureSearchAttributes(connection, config.temporal.namespace).catch(async (err: Error) => {
    if (!(err instanceof NamespaceNotReadyError)) {
      logger.warn({ err: err.message }, 'could not list the search attributes; `exportflow setup` checks them');
      return [];
    }
    await connection.close();
    throw err;
  });
  if (added.length > 0) logger.info({ added }, 'registered search attributes');
  // Every worker runs the (stateless) APSIS callback receiver; with port 0 the bound port becomes the public one.
  const callbacks = await startCallbackService(config, logger);
  const deps = { config: withBoundCallbackUrl(config, callbacks.address), logger };
  const vendorActivities = createVendorActivities(deps);
  // Activity spans (children of the workflow's, through the activity headers) and the sink for workflow spans.
  const tracing = workerTracing();
  logger.info(workflows, workflows.workflowBundle ? 'using the prebuilt workflow bundle' : 'bundling workflows');
  const graceful = shutdownOptions(config.shutdownGraceMs);
  const versioning = versioningOptions(config.versioning, workflows);
  if (versioning.workerDeploymentOptions)
    logger.info(versioning.workerDeploymentOptions.version, 'worker versioning on');
  const main = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    dataConverter,
    ...graceful,
    ...versioning,
    taskQueue: config.taskQueue,
    ...workflows,
    activities: createCommonActivities(deps),
    // A prebuilt bundle has the tracing interceptors built in (scripts/bundle-workflows.ts).
    interceptors: {
      activity: tracing.activity,
      ...(workflows.workflowsPath ? { workflowModules: WORKFLOW_INTERCEPTOR_MODULES } : {}),
    },
    sinks: tracing.sinks,
  });
  const vendors = await Promise.all(
    (Object.keys(vendorActivities) as (keyof typeof vendorActivities)[]).map((vendor) =>
      Worker.create({
        connection,
        namespace: config.temporal.namespace,
        dataConverter,
        ...graceful,
        ...versioning,
        taskQueue: vendorTaskQueue(config.taskQueue, vendor),
        activities: vendorActivities[vendor],
        interceptors: { activity: tracing.activity },
        maxTaskQueueActivitiesPerSecond: VENDOR_LIMITS[vendor].maxActivitiesPerSecond,
        maxConcurrentActivityTaskExecutions: VENDOR_LIMITS[vendor].maxConcurrent,
        // The SDK would space heartbeats at 0.8 x the timeout, leaving a loaded worker a fifth of it to get one
        // through; a late one makes Temporal retry an activity that is still working (for a create call: a
        // second vendor job). Every 2 s at most leaves most of the timeout as slack.
        maxHeartbeatThrottleInterval: HEARTBEAT_EVERY_MS,
      }),
    ),
  );
  workers.push(main, ...vendors);
  logger.info(
    { taskQueue: config.taskQueue, vendors: Object.keys(vendorActivities), temporal: config.temporal.address },
    'worker started',
  );
  const done = Promise.all(workers.map((w) => w.run())).then(async () => {
    await callbacks.close();
    await connection.close();
    await shutdownTracing();
    logger.info('worker stopped');
    if (missingKey) throw missingKey;
  });
  return {
    done,
    callbackAddress: callbacks.address,
    async shutdown() {
      beginDraining();
      logger.info({ graceMs: config.shutdownGraceMs }, 'worker stopping: no new tasks; calls in flight may finish');
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}
