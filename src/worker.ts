import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { createCommonActivities, createVendorActivities } from './activities';
import type { Config } from './config';
import type { Logger } from './logger';

/** Per-vendor activity limits: one task queue per vendor, so the limit holds across every worker. */
export const VENDOR_LIMITS = {
  altcraft: { maxActivitiesPerSecond: 5, maxConcurrent: 20 },
  apsis: { maxActivitiesPerSecond: 5, maxConcurrent: 20 },
  // myTracker allows 10/s and 100/min per API user; 1.5/s stays inside the per-minute quota too.
  mytracker: { maxActivitiesPerSecond: 1.5, maxConcurrent: 10 },
} as const;

let runtimeInstalled = false;

/** Routes the SDK's own logs into our JSON logger instead of the console. */
export function installRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (logger.level === 'silent' ? 'ERROR' : logger.level.toUpperCase()) as LogLevel;
  const sdkLevel: LogLevel = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level) ? level : 'INFO';
  Runtime.install({
    logger: new DefaultLogger(sdkLevel, (entry) => {
      const method =
        entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      logger[method]({ sdk: true, ...(entry.meta ?? {}) }, entry.message);
    }),
  });
}

export interface RunningWorker {
  /** Resolves when every worker has shut down. */
  done: Promise<void>;
  /** Stops polling, lets running activities finish or heartbeat-fail, and resolves when stopped. */
  shutdown(): Promise<void>;
}

/**
 * Starts the exportflow worker: workflows and common activities on the main task queue, each vendor's activities
 * on `<queue>-<vendor>` with that vendor's rate limit.
 */
export async function startWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  installRuntime(logger);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const deps = { config, logger };
  const vendorActivities = createVendorActivities(deps);
  const main = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: createCommonActivities(deps),
  });
  const vendors = await Promise.all(
    (Object.keys(vendorActivities) as (keyof typeof vendorActivities)[]).map((vendor) =>
      Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: `${config.taskQueue}-${vendor}`,
        activities: vendorActivities[vendor],
        maxTaskQueueActivitiesPerSecond: VENDOR_LIMITS[vendor].maxActivitiesPerSecond,
        maxConcurrentActivityTaskExecutions: VENDOR_LIMITS[vendor].maxConcurrent,
      }),
    ),
  );
  const workers = [main, ...vendors];
  logger.info(
    { taskQueue: config.taskQueue, vendors: Object.keys(vendorActivities), temporal: config.temporal.address },
    'worker started',
  );
  const done = Promise.all(workers.map((w) => w.run())).then(async () => {
    await connection.close();
    logger.info('worker stopped');
  });
  return {
    done,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}
