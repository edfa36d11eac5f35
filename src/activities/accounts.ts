import { accountCredentials, MissingCredentialError, type AccountCredentials, type Config } from '../config';
import type { Vendor } from '../shared/vendors';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';
import { DEFAULT_ACCOUNT } from '../shared/inputs';

/**
 * What every vendor activity's input may carry besides its own fields: the account's name (absent = `default`,
 * as in every history recorded before accounts existed). Never a credential: those stay in the worker.
 */
export interface AccountRef {
  account?: string;
}

/**
 * The credentials of `account` for `vendor` from the worker's environment, or a final WorkerMisconfigured failure
 * naming the variable the worker lacks (e.g. `ALTCRAFT_TOKEN__EU is not set ...`), thrown before any vendor call.
 */
export function vendorCredentials<V extends Vendor>(
  config: Pick<Config, 'accounts'>,
  vendor: V,
  account: string | undefined,
): AccountCredentials[V] & { account: string } {
  try {
    // The name rides along (never a secret) so the client labels its vendor-call metrics with it.
    return { ...accountCredentials(config, vendor, account), account: (account ?? DEFAULT_ACCOUNT).toLowerCase() };
  } catch (err) {
    if (err instanceof MissingCredentialError) throw finalFailure(FAILURE_TYPES.workerMisconfigured, err.message);
    throw err;
  }
}
