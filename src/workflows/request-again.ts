import type { FailureType } from '../shared/failure-types';
import { finalFailure } from '../shared/failure-types';
import { failureType, userMessage } from './activity-failures';
import { workflowInfo } from '@temporalio/workflow';
import { common } from './common-activities';
import type { ExportTracker } from './tracker';

/** How often a vendor job may be requested in one export (first try + re-requests after vendor failures). */
export const MAX_REMOTE_ATTEMPTS = 3;

/** Whether the vendor job may be requested once more: fewer than MAX_REMOTE_ATTEMPTS requests so far. */
export function mayRequestAgain(tracker: ExportTracker): boolean {
  return tracker.attempts < MAX_REMOTE_ATTEMPTS;
}

/** When a failed vendor job may be replaced by a new request, and how to say it when attempts run out. */
export interface RequestAgainRule {
  /** Failure types after which the vendor job is spent and a new request can succeed. */
  on: readonly FailureType[];
  /** The vendor job as the final message names it: `the task`, `the report`. */
  job: string;
  /** The final failure's type; the spent job's own type when not given. */
  finalType?: FailureType;
  /** The final failure's lead; the spent job's own message when not given. */
  lastError?: string;
}

/**
 * After the current vendor job failed: when the failure is one of `rule.on` and fewer than MAX_REMOTE_ATTEMPTS
 * requests were made, removes the files taken from the job and forgets it, so the caller's loop requests a new
 * one; otherwise throws (the failure as it was, or a final one saying how often the job was requested).
 */
export async function requestAgainOrThrow(tracker: ExportTracker, err: unknown, rule: RequestAgainRule): Promise<void> {
  const type = failureType(err);
  const spent = rule.on.find((t) => t === type);
  if (spent === undefined) throw err;
  if (!mayRequestAgain(tracker)) {
    const lead = rule.lastError ?? userMessage(err);
    throw finalFailure(
      rule.finalType ?? spent,
      `${lead} (gave up after requesting ${rule.job} ${tracker.attempts} times)`,
    );
  }
  await discardRemote(tracker);
}

/** Forgets a spent vendor job and removes the files already taken from it, before the export asks anew. */
export async function discardRemote(tracker: ExportTracker): Promise<void> {
  await common.removeExportFiles({ workflowId: workflowInfo().workflowId });
  tracker.dropRemote();
}
