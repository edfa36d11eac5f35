import { createAccountCheckActivities, createAccountListActivities } from './account-checks';
import { createActionActivities } from './actions';
import { createAltcraftActivities } from './altcraft';
import { createApsisActivities } from './apsis';
import { createFileActivities } from './cleanup';
import { createMyTrackerActivities } from './mytracker';
import type { ActivityDeps } from './context';

export type { ActivityDeps } from './context';

/** Activities that run on the main task queue (no vendor quota applies). */
export function createCommonActivities(deps: ActivityDeps) {
  return { ...createFileActivities(deps), ...createAccountListActivities(deps), ...createActionActivities() };
}

/** Activities per vendor task queue, so each vendor's quota is enforced by its own queue's rate limit. */
export function createVendorActivities(deps: ActivityDeps) {
  const checks = createAccountCheckActivities(deps);
  return {
    altcraft: { ...createAltcraftActivities(deps), ...checks.altcraft },
    apsis: { ...createApsisActivities(deps), ...checks.apsis },
    mytracker: { ...createMyTrackerActivities(deps), ...checks.mytracker },
  };
}

export type CommonActivities = ReturnType<typeof createCommonActivities>;
export type AltcraftActivities = ReturnType<typeof createAltcraftActivities>;
export type ApsisActivities = ReturnType<typeof createApsisActivities>;
export type MyTrackerActivities = ReturnType<typeof createMyTrackerActivities>;
