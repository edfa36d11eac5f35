import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { temporal } from '@temporalio/proto';
import { countExportActions, countRunActions } from '../../src/shared/temporal-actions';

/** temporal.actions (src/shared/temporal-actions.ts): what a history shows of the billable actions. */

type Event = temporal.api.history.v1.IHistoryEvent;
let id = 0;
// Plain numbers where the proto has Long ids: the counter compares them as strings.
const ev = (e: Record<string, unknown>): Event => ({ eventId: ++id, ...e }) as unknown as Event;
const wtCompleted = () => ev({ workflowTaskCompletedEventAttributes: {} });

test('start, timers, activity attempts (retries from the started event), signals, upserts count', () => {
  id = 0;
  const events: Event[] = [
    ev({ workflowExecutionStartedEventAttributes: {} }),
    wtCompleted(),
    ev({ upsertWorkflowSearchAttributesEventAttributes: {} }),
    ev({ activityTaskScheduledEventAttributes: { activityType: { name: 'a' } } }), // id 4
    ev({ activityTaskStartedEventAttributes: { scheduledEventId: 4, attempt: 3 } }),
    ev({ activityTaskCompletedEventAttributes: { scheduledEventId: 4 } }),
    wtCompleted(),
    ev({ timerStartedEventAttributes: {} }),
    ev({ workflowExecutionSignaledEventAttributes: {} }),
    wtCompleted(),
    ev({ activityTaskScheduledEventAttributes: { activityType: { name: 'b' } } }), // pending: one attempt
  ];
  // 1 start + 1 upsert + 3 attempts + 1 timer + 1 signal + 1 pending attempt
  assert.equal(countRunActions(events), 8);
});

test("one workflow task's markers are one action (the server's command_BatchMarkers); another task's count again", () => {
  id = 0;
  const events: Event[] = [
    ev({ workflowExecutionStartedEventAttributes: {} }),
    wtCompleted(),
    ev({ markerRecordedEventAttributes: {} }),
    ev({ markerRecordedEventAttributes: {} }),
    wtCompleted(),
    ev({ markerRecordedEventAttributes: {} }),
  ];
  assert.equal(countRunActions(events), 3);
});

test('a continue-as-new chain is summed over its runs, newest first', async () => {
  id = 0;
  const runs: Record<string, Event[]> = {
    latest: [ev({ workflowExecutionStartedEventAttributes: { continuedExecutionRunId: 'first' } })],
    first: [ev({ workflowExecutionStartedEventAttributes: {} }), ev({ timerStartedEventAttributes: {} })],
  };
  const seen: (string | undefined)[] = [];
  const total = await countExportActions(async (runId) => {
    seen.push(runId);
    return runs[runId ?? 'latest']!;
  });
  assert.equal(total, 3);
  assert.deepEqual(seen, [undefined, 'first']);
});
