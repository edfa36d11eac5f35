import path from 'node:path';
import type { Simulator } from '../../src/simulator';
import { simulatorEnv } from '../../src/simulator';
import { tempDir } from './processes';

/**
 * The environment a test worker/CLI runs with: a private task queue, export dir and data dir, fast polling,
 * and every provider pointed at the simulator. Short heartbeat timeouts make killed workers' activities
 * move to a new worker within seconds.
 */
export function testEnv(
  temporalAddress: string,
  sim: Pick<Simulator, 'url' | 'credentials'>,
  name: string,
): Record<string, string> {
  const root = tempDir(name);
  return {
    TEMPORAL_ADDRESS: temporalAddress,
    EXPORTFLOW_TASK_QUEUE: `t-${name}-${process.pid}`,
    EXPORT_DIR: path.join(root, 'exports'),
    EXPORTFLOW_DATA_DIR: path.join(root, 'data'),
    EXPORTFLOW_POLL_INITIAL: '200ms',
    EXPORTFLOW_POLL_MAX: '1s',
    EXPORTFLOW_HEARTBEAT_TIMEOUT: '3s',
    CALLBACK_LISTEN: '127.0.0.1:0',
    // Tests make far fewer than a vendor's hourly quota of calls: exportflow's quota here drops the hour window
    // (myTracker 10/s,100/min -> 1.44 calls/s, as tests ran before quotas), while the simulator still plays the
    // documented quotas. test/e2e/quota.e2e.test.ts measures the documented defaults.
    EXPORTFLOW_QUOTA_MYTRACKER: '10/s,100/min',
    EXPORTFLOW_QUOTA_APSIS: '10/s',
    EXPORTFLOW_QUOTA_ALTCRAFT: '10/s',
    ...simulatorEnv(sim),
  };
}
