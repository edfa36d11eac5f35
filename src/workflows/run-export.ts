import { CancellationScope, CancelledFailure, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { ExportManifest } from '../shared/manifest';
import { userMessage } from './activity-failures';
import { common } from './common-activities';
import { isContinueAsNew } from './continue-as-new';
import { costCutsPatched } from './patches';
import type { ExportTracker } from './tracker';

/**
 * Runs an export body and keeps its promises on the way out: a cancelled or failed export removes what it
 * stored (no half result without a manifest), and the progress query says how it ended. A completed export's
 * manifest gets `temporal.actions`, counted from the history by an activity (exact, retries and the SDK's own
 * markers included, which the workflow cannot see; it costs that one activity attempt, counted too).
 */
export async function runExport(tracker: ExportTracker, body: () => Promise<ExportManifest>): Promise<ExportManifest> {
  try {
    const manifest = await body();
    if (!costCutsPatched()) return manifest;
    // Last, after the manifest's final upsert: what the export cost, as its own history shows it.
    const { actions } = await common.countTemporalActions({
      workflowId: workflowInfo().workflowId,
      runId: workflowInfo().runId,
    });
    return { ...manifest, temporal: { actions } };
  } catch (err) {
    // continue-as-new is not a failure: it surfaces as an exception that must pass through untouched.
    if (isContinueAsNew(err)) throw err;
    // Cancelled by the user, even when what surfaced is an activity that died meanwhile (its worker gone).
    const cancelled = isCancellation(err) || CancellationScope.current().consideredCancelled;
    tracker.failed(cancelled ? 'the export was cancelled' : userMessage(err), cancelled);
    await CancellationScope.nonCancellable(() => common.removeExportFiles({ workflowId: workflowInfo().workflowId }));
    throw cancelled && !isCancellation(err) ? new CancelledFailure('the export was cancelled') : err;
  }
}
