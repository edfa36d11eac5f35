import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FollowUpdate } from '../../src/client';
import { startStack, type TestStack } from '../helpers/stack';
import { runCli } from '../helpers/processes';

/**
 * Following an export costs almost nothing (issue 19): ExportClient.follow (behind `export --wait` and
 * `status --watch`) sends the `progress` query twice per export and learns the rest from the history long poll,
 * each vendor status within seconds of its poll. `status --json` and the manifest carry temporal.actions.
 */
describe('following an export', () => {
  let stack: TestStack;

  before(async () => {
    // About 12 s of "in progress" at the test environment's 0.2-1 s polls.
    stack = await startStack('follow', { sim: { altcraft: { taskDurationMs: 12_000 } } });
  });
  after(async () => {
    await stack?.stop();
  });

  test('follow(): two queries for the whole export, every poll shown within 5 s of its history event', async () => {
    const { client } = stack;
    const { workflowId } = await client.start('altcraft', { sourceType: 'database', sourceId: 5 });
    const updates: { at: number; update: FollowUpdate }[] = [];
    const report = await client.follow(workflowId, (update) => updates.push({ at: Date.now(), update }));
    const manifest = await client.result(workflowId);

    assert.ok(report.queries <= 2, `${report.queries} queries`);
    const polls = updates.map((u) => u.update.progress.polls);
    assert.ok(polls.at(-1)! >= 8, `polls seen: ${polls.join(',')}`);
    // Each poll's update came soon after the poll's activity completed (its history event's time).
    const history = await client.temporal.workflow.getHandle(workflowId).fetchHistory();
    const completedAt = (history.events ?? [])
      .filter((e) => e.activityTaskCompletedEventAttributes)
      .map((e) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6));
    for (const { at, update } of updates.filter((u) => u.update.progress.phase === 'waiting')) {
      const before = completedAt.filter((t) => t <= at);
      if (before.length === 0) continue;
      assert.ok(at - before.at(-1)! <= 5000, `an update ${at - before.at(-1)!} ms after the last poll`);
      // Before the first poll the job is only "requested"; from then on its status word is shown.
      if (update.progress.polls > 0) assert.ok(update.progress.vendorStatus, 'the vendor status is shown');
    }
    assert.ok(updates.some((u) => u.update.progress.phase === 'downloading'));
    // The manifest's cost line equals the history's count, and status --json shows it.
    assert.ok((manifest.temporal?.actions ?? 0) > 2 * (polls.at(-1)! - 1));
    assert.equal(await client.actions(workflowId), manifest.temporal!.actions);
    const res = await runCli(['status', workflowId, '--json'], stack.env);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).temporal.actions, manifest.temporal!.actions);
  });

  test('status --watch follows a running export to its end and prints the manifest', async () => {
    const { client, env } = stack;
    const { workflowId } = await client.start('altcraft', { sourceType: 'database', sourceId: 6 });
    const res = await runCli(['status', workflowId, '--watch', '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout);
    assert.equal(manifest.workflowId, workflowId);
    assert.equal(typeof manifest.temporal.actions, 'number');
    assert.match(res.stderr, /following export/);
    assert.match(res.stderr, /polls: \d+/);
  });
});
