import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDuration } from '../../src/util/duration';
import { nextPollDelayMs } from '../../src/workflows/backoff';
import { resolveTiming } from '../../src/shared/inputs';

describe('parseDuration', () => {
  test('reads the units CONTRACT.md uses', () => {
    assert.equal(parseDuration('5s'), 5_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5s'), 1_500);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('1200'), 1_200);
  });
  test('rejects anything else with the expected form in the message', () => {
    for (const bad of ['', 'soon', '5 minutes', '-1s', '5x']) {
      assert.throws(() => parseDuration(bad), /expected a duration like/);
    }
  });
});

describe('poll back-off', () => {
  const timing = resolveTiming({ pollInitialMs: 5_000, pollMaxMs: 300_000 });
  const fixed = (r: number) => () => r;

  test('starts at EXPORTFLOW_POLL_INITIAL and doubles', () => {
    assert.equal(nextPollDelayMs(0, timing, fixed(0.5)), 5_000);
    assert.equal(nextPollDelayMs(1, timing, fixed(0.5)), 10_000);
    assert.equal(nextPollDelayMs(3, timing, fixed(0.5)), 40_000);
  });

  test('never leaves [initial, max] whatever the jitter', () => {
    for (let round = 0; round < 40; round++) {
      for (const r of [0, 0.25, 0.5, 0.999]) {
        const d = nextPollDelayMs(round, timing, fixed(r));
        assert.ok(d >= 5_000 && d <= 300_000, `round ${round} r ${r}: ${d}`);
      }
    }
    // At the cap the jitter spans the 2% band below it, evenly.
    assert.equal(nextPollDelayMs(100, timing, fixed(1)), 300_000);
    assert.equal(nextPollDelayMs(100, timing, fixed(0)), 294_000);
    assert.equal(nextPollDelayMs(100, timing, fixed(0.5)), 297_000);
  });

  test('jitter spreads polls of exports started together (±20%)', () => {
    assert.equal(nextPollDelayMs(4, timing, fixed(0)), 64_000);
    assert.equal(nextPollDelayMs(4, timing, fixed(1)), 96_000);
  });

  test('a longer Retry-After wins; a shorter one does not shorten the wait', () => {
    assert.equal(nextPollDelayMs(0, timing, fixed(0.5), 42_000), 42_000);
    assert.equal(nextPollDelayMs(3, timing, fixed(0.5), 1_000), 40_000);
  });

  test('a max below the initial is lifted to the initial', () => {
    const t = resolveTiming({ pollInitialMs: 10_000, pollMaxMs: 1_000 });
    assert.equal(t.pollMaxMs, 10_000);
  });
});
