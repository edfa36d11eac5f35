import os from 'node:os';
import { z } from 'zod';
import { knownAccounts, missingVariables, type Config } from '../config';
import { AltcraftClient } from '../providers/altcraft/client';
import { ApsisTokenCache } from '../providers/apsis/token';
import { ClassifiedError } from '../providers/errors';
import { MyTrackerClient } from '../providers/mytracker/client';
import { type AccountCheck, type AccountListing } from '../shared/accounts';
import { FAILURE_TYPES } from '../shared/failure-types';
import type { ActivityDeps } from './context';
import { asVendorCall } from './as-activity';
import { vendorCredentials } from './accounts';
import { VENDOR_NAMES, VENDORS, type Vendor } from '../shared/vendors';

/** The accounts this worker has variables for, per vendor (main task queue; no vendor call). */
export function createAccountListActivities(deps: ActivityDeps) {
  return {
    async listAccounts(): Promise<{ worker: string; vendors: Record<Vendor, AccountListing[]> }> {
      const vendors = {} as Record<Vendor, AccountListing[]>;
      for (const vendor of VENDORS) vendors[vendor] = listingOf(deps.config, vendor);
      return { worker: `${process.pid}@${os.hostname()}`, vendors };
    },
  };
}

export function listingOf(config: Pick<Config, 'accounts'>, vendor: Vendor): AccountListing[] {
  return knownAccounts(config, vendor).map((account) => {
    const missing = missingVariables(config, vendor, account);
    return { account, complete: missing.length === 0, missing };
  });
}

/** The myTracker quota answer, read as far as the documented 429 body's `quotas` entries go. */
const QuotaAnswer = z.object({
  quotas: z.array(
    z.object({
      name: z.string(),
      count: z.number().optional(),
      limit: z.number().optional(),
      resetInSecond: z.number().optional(),
    }),
  ),
});

/**
 * One cheap authenticated call per vendor account, on that vendor's task queue. A refused credential is an
 * `ok: false` answer (not a failure), so one bad account does not hide the others; the text never holds a secret.
 */
export function createAccountCheckActivities(deps: ActivityDeps) {
  const refused = (vendor: Vendor, err: unknown): AccountCheck | undefined =>
    err instanceof ClassifiedError && (err.type === FAILURE_TYPES.auth || err.type === FAILURE_TYPES.request)
      ? { ok: false, detail: `${VENDOR_NAMES[vendor]} refused the credentials: ${err.message}` }
      : undefined;
  return {
    altcraft: {
      /**
       * Altcraft documents no "who am I" call; tasks/status for a task id that cannot exist is the cheapest
       * authenticated one: a valid token gets a body error about the task, a bad one "Invalid token" (or 401/403).
       */
      async altcraftCheckAccount(input: { account: string }): Promise<AccountCheck> {
        const api = new AltcraftClient(vendorCredentials(deps.config, 'altcraft', input.account));
        return asVendorCall(async (signal) => {
          try {
            await api.taskStatus('exportflow-account-check', signal);
            return { ok: true, detail: 'token accepted (tasks/status answered)' };
          } catch (err) {
            const bad = refused('altcraft', err);
            if (bad) return bad;
            if (err instanceof ClassifiedError && err.type === FAILURE_TYPES.altcraft) {
              if (/token|auth|access|forbidden/i.test(err.message)) {
                return { ok: false, detail: `Altcraft refused the token: ${err.message}` };
              }
              return { ok: true, detail: `token accepted (a probe task id was answered: ${err.message})` };
            }
            throw err;
          }
        });
      },
    },
    apsis: {
      /** A fresh OAuth token (not the worker's cached one), so the check proves the credentials now. */
      async apsisCheckAccount(input: { account: string }): Promise<AccountCheck> {
        const creds = vendorCredentials(deps.config, 'apsis', input.account);
        return asVendorCall(async () => {
          try {
            await new ApsisTokenCache().get(creds);
            return { ok: true, detail: 'access token issued' };
          } catch (err) {
            const bad = refused('apsis', err);
            if (bad) return bad;
            throw err;
          }
        });
      },
    },
    mytracker: {
      /** The quota endpoint: proves the signature and shows what is left of each window. */
      async mytrackerCheckAccount(input: { account: string }): Promise<AccountCheck> {
        const api = new MyTrackerClient(vendorCredentials(deps.config, 'mytracker', input.account));
        return asVendorCall(async (signal) => {
          let data: unknown;
          try {
            data = await api.quotas(signal);
          } catch (err) {
            const bad = refused('mytracker', err);
            if (bad) return bad;
            throw err;
          }
          const parsed = QuotaAnswer.safeParse(data);
          if (!parsed.success) return { ok: true, detail: 'signature accepted (quota answer in an unknown shape)' };
          const left = parsed.data.quotas.map((q) =>
            q.limit !== undefined && q.count !== undefined
              ? `${q.name} ${Math.max(0, q.limit - q.count)}/${q.limit} left`
              : q.name,
          );
          return { ok: true, detail: `quota: ${left.join(', ') || 'no windows reported'}` };
        });
      },
    },
  };
}

export type AccountListActivities = ReturnType<typeof createAccountListActivities>;
export type AccountCheckActivities = ReturnType<typeof createAccountCheckActivities>;
