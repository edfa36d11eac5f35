/**
 * The vendor account an export runs against. Until named accounts are merged the inputs carry none and every
 * export uses `default`; afterwards `input.account` is always set. Quota keys, fairness keys and counters are
 * all per account, read through this one accessor.
 */
export function accountOf(input: unknown): string {
  const account = (input as { account?: unknown } | null | undefined)?.account;
  return typeof account === 'string' && account !== '' ? account : 'default';
}
