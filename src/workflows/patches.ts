import { patched } from '@temporalio/workflow';

/**
 * The one patch id of every workflow change in this release: fairness keys per account and the downloads queue
 * (activity-options.ts), one timer and one activity attempt per poll (steps.ts, tracker.ts), quota blocks waited
 * out (quota-wait.ts), and an APSIS older poll URL that stays 404 being gone (apsis-segment.ts).
 *
 * One id, not one per change: each id costs a marker and an upsert of the TemporalChangeVersion search attribute
 * in every run that reaches it, billable actions on every export (docs/cost.md). A run that an earlier release
 * started replays with all of them off, as recorded, and takes them up together once it runs new code, which
 * is what separate ids would give too. A later release that changes commands again adds its own id here.
 */
export const RELEASE_PATCH = 'exportflow-0.2-fleet-and-cost';

/** Whether this run takes this release's workflow changes (see RELEASE_PATCH). */
export function releasePatched(): boolean {
  return patched(RELEASE_PATCH);
}
