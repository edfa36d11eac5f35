import { proxyActivities } from '@temporalio/workflow';
import type { AccountCheckActivities, AccountListActivities } from '../activities/account-checks';
import {
  type AccountCheck,
  type AccountReport,
  type AccountsCheckInput,
  type AccountsReport,
} from '../shared/accounts';
import { vendorQueue } from './activity-options';
import { VENDORS, type Vendor } from '../shared/vendors';

const listing = proxyActivities<AccountListActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3 },
});

/** Each vendor's check activities on its own task queue (where its quota and its credentials live). */
function checksOn(vendor: Vendor) {
  return proxyActivities<
    AccountCheckActivities['altcraft'] & AccountCheckActivities['apsis'] & AccountCheckActivities['mytracker']
  >({
    taskQueue: vendorQueue(vendor),
    startToCloseTimeout: '30s',
    // A network fault or a 5xx gets one more try; a refused credential is an answer, not a failure.
    retry: { initialInterval: '1s', maximumAttempts: 2 },
  });
}

/**
 * `exportflow accounts [--check]`: lists the vendor accounts a worker has variables for and, when asked, proves
 * every complete one with one cheap authenticated call, all at once. Its history holds names and ok/error text only.
 */
export async function accountsCheck(input: AccountsCheckInput = {}): Promise<AccountsReport> {
  const known = await listing.listAccounts();
  const vendors = {} as Record<Vendor, AccountReport[]>;
  const pending: Promise<void>[] = [];
  for (const vendor of VENDORS) {
    vendors[vendor] = known.vendors[vendor].map((a) => ({ ...a }));
    if (!input.check) continue;
    const acts = checksOn(vendor);
    const run: Record<Vendor, (i: { account: string }) => Promise<AccountCheck>> = {
      altcraft: acts.altcraftCheckAccount,
      apsis: acts.apsisCheckAccount,
      mytracker: acts.mytrackerCheckAccount,
    };
    for (const report of vendors[vendor]) {
      if (!report.complete) {
        report.check = { ok: false, detail: `not checked: ${report.missing.join(', ')} not set` };
        continue;
      }
      pending.push(
        run[vendor]({ account: report.account }).then(
          (check) => void (report.check = check),
          (err: unknown) => void (report.check = { ok: false, detail: failureText(err) }),
        ),
      );
    }
  }
  await Promise.all(pending);
  return { worker: known.worker, checked: input.check === true, vendors };
}

/** The innermost message of an activity failure (e.g. "VendorUnavailable: connect ECONNREFUSED ..."). */
function failureText(err: unknown): string {
  let cause: unknown = err;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  const e = cause as { type?: string; message?: string };
  return `${e.type ? `${e.type}: ` : ''}${e.message ?? String(cause)}`;
}
