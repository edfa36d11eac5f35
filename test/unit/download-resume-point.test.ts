import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { lastResumePoint } from '../../src/activities/context';

const from = (heartbeatDetails: unknown) =>
  new MockActivityEnvironment({ heartbeatDetails }).run(async () => lastResumePoint());

/** What a retried download attempt takes from the previous attempt's last heartbeat. */
describe('lastResumePoint', () => {
  test('a single-range point with bytes is kept; one at 0 or without an offset is not', async () => {
    assert.deepEqual(await from({ offset: 5, etag: '"e"' }), { offset: 5, etag: '"e"' });
    assert.equal(await from({ offset: 0, etag: '"e"' }), undefined);
    assert.equal(await from(undefined), undefined);
    assert.equal(await from({ ranges: [] }), undefined);
  });

  test('a multi-range point is kept while range 0 has no bytes yet, if any other range has', async () => {
    const point = {
      offset: 0,
      total: 300,
      etag: '"e"',
      ranges: [
        { start: 0, end: 100, at: 0 },
        { start: 100, end: 200, at: 150 },
        { start: 200, end: 300, at: 200 },
      ],
    };
    assert.deepEqual(await from(point), point);
    const nothing = { ...point, ranges: point.ranges.map((r) => ({ ...r, at: r.start })) };
    assert.equal(await from(nothing), undefined, 'no range has bytes: start clean');
  });
});
