import type { Timing } from '../shared/inputs';

/** Lowest delay, as a share of pollMax, once the back-off is capped. */
const CAPPED_FLOOR = 0.98;

/**
 * Delay before status poll number `round` (0-based): exponential from pollInitial, capped at pollMax, with
 * ±20% jitter so many exports started together do not poll in lockstep. A vendor's Retry-After wins when longer.
 * Once the back-off has reached pollMax, the delay stays within 2% below it: pollMax is the budget of a long
 * wait (5 min: under 300 status calls a day), and a wider spread below it would spend more calls; a few
 * seconds of spread per poll still drift exports started together apart.
 * Pure: in a workflow, `random` is Temporal's deterministic Math.random.
 */
export function nextPollDelayMs(
  round: number,
  timing: Required<Timing>,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponent = Math.min(round, 30);
  const base = Math.min(timing.pollMaxMs, timing.pollInitialMs * 2 ** exponent);
  // At the cap the jitter is spread evenly over the 2% band: clamping ±20% into it would leave mostly the band's
  // two ends, and exports started together would keep polling in step.
  const delay =
    base >= timing.pollMaxMs
      ? Math.round(timing.pollMaxMs * (CAPPED_FLOOR + (1 - CAPPED_FLOOR) * random()))
      : Math.round(Math.min(timing.pollMaxMs, Math.max(timing.pollInitialMs, base * (0.8 + 0.4 * random()))));
  return retryAfterMs !== undefined && retryAfterMs > delay ? retryAfterMs : delay;
}
