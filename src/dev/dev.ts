import path from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../util/logger';
import { APSIS_DOCUMENTED_LIMITS, startSimulator } from '../simulator';
import { startWorker } from '../worker';
import { startKeyedCodecServer } from '../temporal/codec-server';
import { isSecured } from '../temporal/settings';
import { TemporalConnectError } from '../temporal/connect';
import { acquireDevLock } from './lock';
import { untilSignal } from '../util/signals';
import { ensureTemporalCli, portAnswers, startDevServer, waitForTemporal, type DevServer } from './temporal-server';
import { SIMULATOR_DEFAULT_PORT } from './defaults';

/** Starts the local Temporal dev server unless one already answers at TEMPORAL_ADDRESS. */
export async function ensureLocalTemporal(
  config: Config,
  logger: Logger,
  opts: { uiPort?: number | null; codecEndpoint?: string } = {},
): Promise<DevServer | null> {
  // With TLS or an API key configured, the Temporal to use is a real cluster: never start a local one instead.
  if (isSecured(config.temporal)) {
    if (await portAnswers(config.temporal.address)) return null;
    throw new TemporalConnectError(
      `nothing answers at ${config.temporal.address} (${config.temporal.origin}); the local dev server is started ` +
        'only without TLS or API key settings',
    );
  }
  if (await portAnswers(config.temporal.address)) {
    await waitForTemporal(config.temporal.address, 15_000).catch(() => {
      throw new Error(
        `something listens at ${config.temporal.address} (TEMPORAL_ADDRESS) but does not answer as Temporal: stop ` +
          'that program, or set TEMPORAL_ADDRESS to a free port (or to your Temporal server)',
      );
    });
    logger.info({ temporal: config.temporal.address }, 'using the Temporal server already answering there');
    return null;
  }
  const cli = await ensureTemporalCli();
  const server = await startDevServer({
    cli,
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    dbFile: path.join(config.dataDir, 'temporal.sqlite'),
    uiPort: opts.uiPort === undefined ? 8233 : opts.uiPort,
    logFile: path.join(config.dataDir, 'temporal-server.log'),
    codecEndpoint: opts.codecEndpoint,
    ownProcessGroup: true,
  });
  logger.info({ temporal: server.address, ui: server.uiUrl }, 'started the local Temporal dev server');
  return server;
}

/**
 * `exportflow dev`: local Temporal (unless one answers), worker, and with `simulate` the vendor simulator,
 * all in the foreground until Ctrl-C, which stops them in reverse order.
 */
export async function runDev(
  config: Config,
  logger: Logger,
  opts: { simulate: boolean; simulatorPort?: number },
): Promise<number> {
  const lock = acquireDevLock(config.dataDir);
  if ('heldBy' in lock) {
    process.stderr.write(
      `exportflow dev is already running (pid ${lock.heldBy}). Use that one, stop it with Ctrl-C, or run \`exportflow worker\` to add a worker.\n`,
    );
    return 1;
  }
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => logger.error({ err }, 'stop failed'));
    lock.release();
  };
  const signal = untilSignal();
  try {
    // With payload encryption on, the Web UI shows payloads through the codec server (in the browser, via CORS).
    let codecEndpoint: string | undefined;
    if (config.codecKeys.length > 0) {
      const codec = await startKeyedCodecServer({ keys: config.codecKeys, ...config.codecServer });
      cleanups.push(() => codec.close());
      codecEndpoint = codec.url;
      logger.info({ codec: codec.url }, 'codec server started for the Web UI');
    }
    const server = await ensureLocalTemporal(config, logger, { codecEndpoint });
    if (server) cleanups.push(() => server.stop());
    let workerConfig = config;
    if (opts.simulate) {
      // Every vendor's documented quotas, APSIS's included (myTracker's are on in any simulator).
      const sim = await startSimulator({
        port: opts.simulatorPort ?? SIMULATOR_DEFAULT_PORT,
        apsis: { ...APSIS_DOCUMENTED_LIMITS },
      });
      cleanups.push(() => sim.close());
      workerConfig = simulatedConfig(config, sim.url, sim.credentials);
      logger.info({ simulator: sim.url }, 'vendor simulator started; all providers point at it');
    }
    const worker = await startWorker(workerConfig, logger);
    cleanups.push(() => worker.shutdown());
    printNextSteps(config, server?.uiUrl ?? null, opts.simulate);
    const ended = await Promise.race([signal.then(() => 'signal' as const), worker.done.then(() => 'worker' as const)]);
    if (ended === 'worker') logger.warn('worker stopped on its own; shutting down');
    else {
      logger.info('stopping: worker first (calls in flight finish), then the simulator and the Temporal dev server');
      // A second Ctrl-C stops at once; the dev server runs in its own process group, so take it down too.
      void untilSignal().then(() => {
        server?.child.kill('SIGTERM');
        lock.release();
        process.exit(130);
      });
    }
    await stopAll();
    return 0;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The worker's configuration with every provider pointed at the simulator and its credentials. */
export function simulatedConfig(
  config: Config,
  url: string,
  creds: {
    altcraftToken: string;
    apsisClientId: string;
    apsisClientSecret: string;
    mytrackerUserId: string;
    mytrackerSecret: string;
  },
): Config {
  const altcraft = { baseUrl: url, token: creds.altcraftToken };
  const apsis = { baseUrl: url, clientId: creds.apsisClientId, clientSecret: creds.apsisClientSecret };
  const mytracker = { baseUrl: url, userId: creds.mytrackerUserId, secret: creds.mytrackerSecret };
  // The worker resolves every vendor call's credentials from `accounts` (the `default` account here).
  return {
    ...config,
    altcraft,
    apsis,
    mytracker,
    accounts: {
      altcraft: { ...config.accounts.altcraft, default: altcraft },
      apsis: { ...config.accounts.apsis, default: apsis },
      mytracker: { ...config.accounts.mytracker, default: mytracker },
    },
  };
}

function printNextSteps(config: Config, uiUrl: string | null, simulate: boolean): void {
  const lines = [
    '',
    'exportflow is running. Ctrl-C stops it.',
    `  Temporal:   ${config.temporal.address} (namespace ${config.temporal.namespace})${uiUrl ? `, Web UI ${uiUrl}` : ''}`,
    `  task queue: ${config.taskQueue}; files land in ${config.exportDir}/<workflowId>/`,
    '',
    'In another terminal, try:',
    simulate
      ? '  npx exportflow export altcraft --source-type database --source-id 1 --wait'
      : '  npx exportflow export altcraft --source-type database --source-id <id> --wait   (needs ALTCRAFT_BASE_URL and ALTCRAFT_TOKEN here)',
    '',
  ];
  process.stderr.write(lines.join('\n'));
}
