import { temporal } from '@temporalio/proto';
import { readQuotas, sustainedRate, type Quota } from './config';
import { VENDORS, type Vendor } from '../shared/vendors';

/**
 * Vendor quotas held by the Temporal server for every worker together: each vendor's activity task queue gets
 * a queue-wide rate limit (the sum of its accounts' rates) and a default per-fairness-key rate limit (the
 * `default` account's rate); workflows send each vendor call with the account as its fairness key
 * (src/workflows/activity-options.ts), so each account is held to its own rate. An account whose quota differs
 * gets a fairness weight override of its rate over the default one (the server scales a key's rate limit by its
 * weight). The same as `temporal task-queue config set --task-queue-type activity --queue-rps-limit R
 * --fairness-key-rps-limit-default K`. Setting it again with the same values changes nothing (idempotent).
 */
export interface VendorQueueConfig {
  vendor: Vendor;
  taskQueue: string;
  /** Requests per second for the whole queue (all accounts). */
  queueRps: number;
  /** Requests per second per fairness key (per account) at weight 1: the default account's rate. */
  keyRps: number;
  /** Fairness weights of accounts whose rate differs from the default one. */
  weights: Record<string, number>;
  /** Each account's quota and rate, for logs and docs. */
  accounts: Record<string, { quota: string; rps: number }>;
}

type Quotas = Record<Vendor, Record<string, Quota>>;

export function vendorQueueConfigs(
  queueOf: (vendor: Vendor) => string,
  quotas: Quotas = readQuotas(),
): VendorQueueConfig[] {
  return VENDORS.map((vendor) => {
    const accounts = Object.fromEntries(
      Object.entries(quotas[vendor]).map(([name, q]) => [name, { quota: q.text, rps: sustainedRate(q) }]),
    );
    const keyRps = accounts.default?.rps ?? Math.min(...Object.values(accounts).map((a) => a.rps));
    const weights: Record<string, number> = {};
    for (const [name, a] of Object.entries(accounts)) {
      if (a.rps !== keyRps) weights[name] = Math.round((a.rps / keyRps) * 1000) / 1000;
    }
    const queueRps = Math.round(Object.values(accounts).reduce((sum, a) => sum + a.rps, 0) * 10_000) / 10_000;
    return { vendor, taskQueue: queueOf(vendor), queueRps, keyRps, weights, accounts };
  });
}

type WorkflowService = {
  updateTaskQueueConfig(
    req: temporal.api.workflowservice.v1.IUpdateTaskQueueConfigRequest,
  ): Promise<temporal.api.workflowservice.v1.IUpdateTaskQueueConfigResponse>;
  getSystemInfo(
    req: temporal.api.workflowservice.v1.IGetSystemInfoRequest,
  ): Promise<temporal.api.workflowservice.v1.IGetSystemInfoResponse>;
};

export interface QueueConfigResult {
  applied: VendorQueueConfig[];
  /** What the server lacks for these limits to hold, in words for the operator; empty when all is well. */
  missing: string[];
  serverVersion?: string;
}

const ACTIVITY = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;

/**
 * Sets the configs on the server. A server without the API (before 1.28), or one too old for fairness keys
 * (self-hosted before 1.31 needs `matching.useNewMatcher`; Temporal Cloud enables fairness per namespace), is
 * reported in `missing`, never thrown: the worker still runs, with its own per-process limit as the fallback.
 */
export async function applyVendorQueueConfigs(
  service: WorkflowService,
  namespace: string,
  configs: VendorQueueConfig[],
  identity = 'exportflow',
): Promise<QueueConfigResult> {
  const missing: string[] = [];
  let serverVersion: string | undefined;
  try {
    serverVersion = (await service.getSystemInfo({})).serverVersion || undefined;
  } catch {
    /* reported below if the update fails too */
  }
  if (serverVersion && olderThan(serverVersion, [1, 31])) {
    missing.push(
      `Temporal Server ${serverVersion} is older than 1.31: per-account fairness-key rate limits hold only with ` +
        'the dynamic config matching.useNewMatcher=true (and UpdateTaskQueueConfig needs 1.28 or later)',
    );
  }
  const applied: VendorQueueConfig[] = [];
  for (const c of configs) {
    try {
      await service.updateTaskQueueConfig({
        namespace,
        identity,
        taskQueue: c.taskQueue,
        taskQueueType: ACTIVITY,
        updateQueueRateLimit: {
          rateLimit: { requestsPerSecond: c.queueRps },
          reason: `exportflow: ${c.vendor} quotas of all accounts (${describe(c)})`,
        },
        updateFairnessKeyRateLimitDefault: {
          rateLimit: { requestsPerSecond: c.keyRps },
          reason: `exportflow: ${c.vendor} quota per account`,
        },
        setFairnessWeightOverrides: c.weights,
      });
      applied.push(c);
    } catch (err) {
      missing.push(
        `could not set the rate limits of task queue ${c.taskQueue} (${(err as Error).message}); the server needs ` +
          'UpdateTaskQueueConfig (Temporal Server 1.28+, fairness on Temporal Cloud is a namespace setting) and the ' +
          'caller the right to use it',
      );
    }
  }
  return { applied, missing, serverVersion };
}

function describe(c: VendorQueueConfig): string {
  return Object.entries(c.accounts)
    .map(([name, a]) => `${name} ${a.quota} -> ${a.rps}/s`)
    .join('; ');
}

function olderThan(version: string, [major, minor]: [number, number]): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a < major || (a === major && b < minor);
}
