import { proxyActivities } from '@temporalio/workflow';
import type { CommonActivities } from '../activities';

/** The worker's own activities every export uses (removing its files, counting its actions), on its queue. */
export const common = proxyActivities<CommonActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});
