import { patched } from '@temporalio/workflow';

/**
 * The one patch id of every workflow change in this release: fairness keys per account and the downloads queue
 * (activity-options.ts), one timer and one activity attempt per poll (deadline.ts, tracker.ts, run-export.ts), quota blocks waited
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

/**
 * The marker of the cuts in actions per export: a step's deadline travels with its activity as a
 * schedule-to-close timeout (the server ends the activity, its retries included, when the budget is spent)
 * instead of a scope timer per step, so a poll costs one activity attempt and the loop's one timer (deadline.ts);
 * search attributes are upserted only where they change (tracker.ts); a completed export counts its actions
 * (run-export.ts). Older runs replay as recorded. It is RELEASE_PATCH, shared with this release's other changes.
 */
export function costCutsPatched(): boolean {
  return releasePatched();
}
