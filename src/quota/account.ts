import { DEFAULT_ACCOUNT } from '../shared/inputs';

/**
 * The vendor account an export runs against: `input.account` as parsed (always set by the input schemas), or
 * `default` for inputs recorded before named accounts existed. Quota keys, fairness keys and counters are all
 * per account, read through this one accessor.
 */
export function accountOf(input: unknown): string {
  const account = (input as { account?: unknown } | null | undefined)?.account;
  return typeof account === 'string' && account !== '' ? account : DEFAULT_ACCOUNT;
}
