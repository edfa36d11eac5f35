import { DEFAULT_ACCOUNT } from './inputs';
import type { Vendor } from './vendors';

/**
 * `exportflow accounts`: which vendor accounts the workers have credentials for and, with `--check`, whether each
 * credential works. Answered by a worker through the short `accountsCheck` workflow, so the CLI needs no secrets.
 * Results hold account names, variable names and ok/error text only: never a credential.
 */
export const ACCOUNTS_WORKFLOW_TYPE = 'accountsCheck';

export interface AccountsCheckInput {
  /** Prove each complete account with one cheap authenticated call. */
  check?: boolean;
}

/** One account as the worker knows it. */
export interface AccountListing {
  account: string;
  /** Every variable it needs is set. */
  complete: boolean;
  /** The variables it lacks (names only). */
  missing: string[];
}

/** The outcome of one credential check. */
export interface AccountCheck {
  ok: boolean;
  /** What the vendor said: e.g. myTracker's quota counters, or why the credential was refused. */
  detail: string;
}

export interface AccountReport extends AccountListing {
  /** With --check: the check's outcome (an incomplete account is not called, and reported as not ok). */
  check?: AccountCheck;
}

export interface AccountsReport {
  /** The worker that listed the accounts (its identity, e.g. pid@host). */
  worker: string;
  checked: boolean;
  vendors: Record<Vendor, AccountReport[]>;
}

/**
 * An account's name as quotas, fairness keys, metrics and counters key by it: the name given, or `default` (the
 * plain credential variables) when none is.
 */
export function accountName(account: unknown): string {
  return typeof account === 'string' && account !== '' ? account : DEFAULT_ACCOUNT;
}

/**
 * The vendor account an export runs against: `input.account` as parsed (always set by the input schemas), or
 * `default` for inputs recorded before named accounts existed.
 */
export function accountOf(input: unknown): string {
  return accountName((input as { account?: unknown } | null | undefined)?.account);
}
