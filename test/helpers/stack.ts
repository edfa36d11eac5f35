import { ExportClient } from '../../src/client';
import { readConfig } from '../../src/config';
import { simulatorEnv, startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator';
import { testEnv } from './env';
import { spawnWorker, type WorkerProcess } from './processes';
import { startTestTemporal } from './temporal';

export interface TestStack {
  temporal: Awaited<ReturnType<typeof startTestTemporal>>;
  sim: Simulator;
  /** Environment for CLI and worker children (task queue, export dir, simulator credentials…). */
  env: Record<string, string>;
  client: ExportClient;
  /** Workers started so far (the first one by startStack unless `worker: false`). */
  workers: WorkerProcess[];
  /** Starts another `exportflow worker` process and waits until it polls. */
  newWorker(): Promise<WorkerProcess>;
  stop(): Promise<void>;
}

/**
 * What every end-to-end test file needs: a real Temporal dev server, the vendor simulator on 127.0.0.1, the
 * environment pointing at both, a typed client, and (unless told otherwise) one worker process.
 */
export async function startStack(
  name: string,
  opts: { sim?: SimulatorOptions; env?: Record<string, string>; worker?: boolean; ui?: boolean } = {},
): Promise<TestStack> {
  // What started so far is stopped again when a later step fails: a test file whose `before` fails must still
  // exit (a dev server or simulator left running kept one alive until the runner's 10-minute timeout).
  const started: (() => Promise<void>)[] = [];
  const stopStarted = async () => {
    for (const stop of [...started].reverse()) await stop().catch(() => undefined);
  };
  try {
    const temporal = await startTestTemporal({ ui: opts.ui });
    started.push(() => temporal.stop());
    const sim = await startSimulator(opts.sim);
    started.push(() => sim.close());
    // Named simulator accounts (opts.sim.accounts) come with their __<NAME> variables.
    const env = {
      ...testEnv(temporal.address, sim, name),
      ...simulatorEnv(sim, opts.sim?.accounts ?? []),
      ...(opts.env ?? {}),
    };
    const client = await ExportClient.connect({}, readConfig(env));
    started.push(() => client.close());
    const workers: WorkerProcess[] = [];
    started.push(async () => {
      for (const w of workers) await w.kill('SIGKILL');
    });
    const newWorker = async () => {
      const worker = spawnWorker(env);
      workers.push(worker);
      await worker.ready;
      return worker;
    };
    if (opts.worker !== false) await newWorker();
    return { temporal, sim, env, client, workers, newWorker, stop: stopStarted };
  } catch (err) {
    await stopStarted();
    throw err;
  }
}
