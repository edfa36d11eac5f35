import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createCommonActivities, createVendorActivities } from './activities';
import { startCallbackService, withBoundCallbackUrl } from './callbacks';
import { ConfigError, type Config } from './config';
import type { Logger } from './util/logger';
import { METRIC_NAMES, VENDOR_CALL_BUCKETS_MS, installVendorMetrics } from './telemetry/vendor-metrics';
import { ensureSearchAttributes, NamespaceNotReadyError } from './temporal/setup';
import { connectNative } from './temporal/native';
import { exportflowDataConverter } from './temporal/data-converter';
import type { MissingCodecKeyError } from './temporal/codec';
import { downloadsTaskQueue, vendorTaskQueue } from './shared/contract';
import { applyVendorQueueConfigs, vendorQueueConfigs, type VendorQueueConfig } from './quota/task-queue-config';
import { workflowBundleName } from './worker/bundle-name';
import { beginDraining, resetDraining } from './activities/draining';
import { shutdownOptions } from './worker/shutdown';
import { versioningOptions } from './worker/versioning';
import { WORKFLOW_INTERCEPTOR_MODULES, shutdownTracing, workerTracing } from './telemetry';

/**
 * Per-vendor concurrency. Rates come from the vendors' quotas (EXPORTFLOW_QUOTA_*), set on the server for all
 * workers together (src/quota/task-queue-config.ts); each worker also sets the same queue-wide rate itself,
 * which the server's config overrides and which only acts on a server without it.
 */
export const VENDOR_LIMITS = {
  altcraft: { maxConcurrent: 20 },
  apsis: { maxConcurrent: 20 },
  mytracker: { maxConcurrent: 10 },
} as const;

/** Storage downloads (myTracker, Altcraft links) at once per worker, on their own queue without a rate limit. */
const MAX_CONCURRENT_DOWNLOADS = 20;

/**
 * Puts the vendors' quotas on their task queues (idempotent); what the server lacks is logged, not fatal.
 * Also run by `exportflow setup`.
 */
export async function setVendorQueueLimits(
  connection: Pick<NativeConnection, 'workflowService'>,
  namespace: string,
  configs: VendorQueueConfig[],
  logger: Logger,
): Promise<void> {
  const result = await applyVendorQueueConfigs(connection.workflowService, namespace, configs);
  for (const problem of result.missing) logger.warn({ serverVersion: result.serverVersion }, problem);
  if (result.applied.length > 0) {
    logger.info(
      {
        queues: Object.fromEntries(
          result.applied.map((c) => [c.taskQueue, { queueRps: c.queueRps, keyRps: c.keyRps, weights: c.weights }]),
        ),
      },
      'vendor quotas set on the task queues (held by the server for all workers)',
    );
  }
}

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
  // A bad EXPORTFLOW_QUOTA_* stops the worker here, naming the variable, before it dials Temporal.
  let queueConfigs: VendorQueueConfig[];
  try {
    queueConfigs = vendorQueueConfigs((vendor) => vendorTaskQueue(config.taskQueue, vendor));
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`);
  }
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
  await setVendorQueueLimits(connection, config.temporal.namespace, queueConfigs, logger);
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
        maxTaskQueueActivitiesPerSecond: queueConfigs.find((c) => c.vendor === vendor)!.queueRps,
        maxConcurrentActivityTaskExecutions: VENDOR_LIMITS[vendor].maxConcurrent,
        // The SDK would space heartbeats at 0.8 x the timeout, leaving a loaded worker a fifth of it to get one
        // through; a late one makes Temporal retry an activity that is still working (for a create call: a
        // second vendor job). Every 2 s at most leaves most of the timeout as slack.
        maxHeartbeatThrottleInterval: HEARTBEAT_EVERY_MS,
      }),
    ),
  );
  // Storage links spend no API quota: they stream on their own queue, never behind API calls.
  const downloads = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    dataConverter,
    ...graceful,
    ...versioning,
    taskQueue: downloadsTaskQueue(config.taskQueue),
    interceptors: { activity: tracing.activity },
    activities: {
      altcraftDownload: vendorActivities.altcraft.altcraftDownload,
      mytrackerDownload: vendorActivities.mytracker.mytrackerDownload,
    },
    maxConcurrentActivityTaskExecutions: MAX_CONCURRENT_DOWNLOADS,
    maxHeartbeatThrottleInterval: HEARTBEAT_EVERY_MS,
  });
  workers.push(main, ...vendors, downloads);
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
