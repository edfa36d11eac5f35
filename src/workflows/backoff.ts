import type { Timing } from '../shared/inputs';

/**
 * Delay before status poll number `round` (0-based): exponential from pollInitial, capped at pollMax, with
 * ±20% jitter so many exports started together do not poll in lockstep. A vendor's Retry-After wins when longer.
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
  const jittered = base * (0.8 + 0.4 * random());
  const delay = Math.round(Math.min(timing.pollMaxMs, Math.max(timing.pollInitialMs, jittered)));
  return retryAfterMs !== undefined && retryAfterMs > delay ? retryAfterMs : delay;
}
