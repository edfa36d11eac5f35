import { createActionActivities } from './actions';
import { createAltcraftActivities } from './altcraft';
import { createApsisActivities } from './apsis';
import { createFileActivities } from './cleanup';
import { createMyTrackerActivities } from './mytracker';
import type { ActivityDeps } from './context';

export type { ActivityDeps } from './context';

/** Activities that run on the main task queue (no vendor quota applies). */
export function createCommonActivities(deps: ActivityDeps) {
  return { ...createFileActivities(deps), ...createActionActivities() };
}

/** Activities per vendor task queue, so each vendor's quota is enforced by its own queue's rate limit. */
export function createVendorActivities(deps: ActivityDeps) {
  return {
    altcraft: createAltcraftActivities(deps),
    apsis: createApsisActivities(deps),
    mytracker: createMyTrackerActivities(deps),
  };
}

export type CommonActivities = ReturnType<typeof createCommonActivities>;
export type AltcraftActivities = ReturnType<typeof createAltcraftActivities>;
export type ApsisActivities = ReturnType<typeof createApsisActivities>;
export type MyTrackerActivities = ReturnType<typeof createMyTrackerActivities>;
