import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * What one run's history shows of the Temporal billable actions it cost (the manifest's `temporal.actions`, docs/usage.md and docs/cost.md):
 * its start (the first run's start, or the continue-as-new that began it), every timer, every activity attempt
 * (an activity retried three times shows one ActivityTaskStarted event with `attempt: 3`), every signal,
 * search-attribute and memo upsert, marker (a `patched()` or side effect) and update. Markers that one workflow
 * task records together count once: the server bills them as one batch (its `action` metric's
 * `command_BatchMarkers`). Heartbeats and queries leave no event and are not in it. An activity scheduled but
 * not started yet counts its one attempt.
 */
export function countRunActions(events: readonly HistoryEvent[]): number {
  let actions = 0;
  const started = new Map<string, number>();
  const scheduled: string[] = [];
  let markerBatchOpen = false;
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) markerBatchOpen = false;
    const id = String(e.eventId ?? '');
    if (e.workflowExecutionStartedEventAttributes) actions += 1;
    else if (e.timerStartedEventAttributes) actions += 1;
    else if (e.activityTaskScheduledEventAttributes) scheduled.push(id);
    else if (e.activityTaskStartedEventAttributes) {
      const of = String(e.activityTaskStartedEventAttributes.scheduledEventId ?? '');
      started.set(of, Math.max(1, e.activityTaskStartedEventAttributes.attempt ?? 1));
    } else if (e.workflowExecutionSignaledEventAttributes) actions += 1;
    else if (e.upsertWorkflowSearchAttributesEventAttributes) actions += 1;
    else if (e.workflowPropertiesModifiedEventAttributes) actions += 1;
    else if (e.markerRecordedEventAttributes) {
      if (!markerBatchOpen) actions += 1;
      markerBatchOpen = true;
    } else if (e.workflowExecutionUpdateAcceptedEventAttributes) actions += 1;
    else if (e.startChildWorkflowExecutionInitiatedEventAttributes) actions += 1;
    else if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) actions += 1;
  }
  for (const id of scheduled) actions += started.get(id) ?? 1;
  return actions;
}

/** The run a history's run continued from (continue-as-new), if any. */
export function continuedFromRunId(events: readonly HistoryEvent[]): string | undefined {
  return events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
}

/** The actions of a whole export: the sum over its chain of runs, fetched newest first by `historyOf`. */
export async function countExportActions(
  historyOf: (runId: string | undefined) => Promise<readonly HistoryEvent[]>,
  runId?: string,
): Promise<number> {
  let total = 0;
  let next: string | undefined = runId;
  // Bounded: a 24 h export has a handful of runs; a chain this long is a loop, not an export.
  for (let runs = 0; runs < 1000; runs++) {
    const events = await historyOf(next);
    total += countRunActions(events);
    next = continuedFromRunId(events);
    if (!next) return total;
  }
  throw new Error('more than 1000 runs in one export chain');
}
