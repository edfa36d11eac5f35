import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExportClient } from '../src/client';
import { readConfig } from '../src/config';
import { ensureTemporalCli, startDevServer } from '../src/dev/temporal-server';
import { simulatorEnv, startSimulator, type Simulator } from '../src/simulator';
import { createLogger } from '../src/util/logger';
import { startWorker } from '../src/worker';
import { freePort } from '../test/helpers/temporal';

/** What a bench runs its exports against: a dev server, the simulator, one in-process worker and a client. */
export interface BenchStack {
  work: string;
  /** The worker's environment (the CLI a bench spawns gets the same). */
  env: Record<string, string>;
  /** The worker's task queue (EXPORTFLOW_TASK_QUEUE). */
  taskQueue: string;
  temporal: { address: string };
  sim: Simulator;
  client: ExportClient;
  /** Stops everything started, in reverse order, and removes the work directory. */
  stop(): Promise<void>;
}

/**
 * Starts a bench's stack in a fresh temporary directory: a Temporal dev server on a free loopback port (with
 * `devServerArgs`, e.g. `--metrics-port`), the simulator with `sim` settings, and a worker configured from the
 * common bench settings plus `env` (poll timing, queue name, callback address…).
 */
export async function startBenchStack(opts: {
  name: string;
  devServerArgs?: string[];
  sim?: Parameters<typeof startSimulator>[0];
  env?: Record<string, string>;
}): Promise<BenchStack> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `exportflow-bench-${opts.name}-`));
  const temporal = await startDevServer({
    cli: await ensureTemporalCli(),
    address: `127.0.0.1:${await freePort()}`,
    uiPort: null,
    extraArgs: opts.devServerArgs ?? [],
  });
  const sim = await startSimulator(opts.sim);
  const taskQueue = `bench-${opts.name}-${process.pid}`;
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: temporal.address,
    EXPORTFLOW_TASK_QUEUE: taskQueue,
    EXPORT_DIR: path.join(work, 'exports'),
    EXPORTFLOW_DATA_DIR: path.join(work, 'data'),
    CALLBACK_LISTEN: '127.0.0.1:0',
    LOG_LEVEL: 'warn',
    ...opts.env,
    ...simulatorEnv(sim),
  };
  const config = readConfig(env);
  const worker = await startWorker(config, createLogger('warn', { service: 'bench' }));
  const client = await ExportClient.connect({}, config);
  return {
    work,
    env,
    taskQueue,
    temporal,
    sim,
    client,
    async stop() {
      await client.close();
      await worker.shutdown();
      await sim.close();
      await temporal.stop();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}
