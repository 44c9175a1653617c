/** The accounts classes over one engine's stores, as the service builds them, for the contract suites. */
import { loadConfig } from '../config/load-config.ts';
import { ApiKeys } from '../core/accounts/api-keys.ts';
import { LinkCodes } from '../core/accounts/link-codes.ts';
import { UserAccounts } from '../core/accounts/user-accounts.ts';
import type { Stores } from '../core/database/stores.ts';

/** The default plans: free 5, pro 200, enterprise 2000, guest 3 a month. */
export const defaultPlans = loadConfig({}).plans;

/** `UserAccounts`, `ApiKeys` and `LinkCodes` over `stores`, on the clock `now`. */
export function accountsOn(stores: Stores, now: () => Date) {
  const accounts = new UserAccounts(stores.accounts, defaultPlans, now);
  return {
    accounts,
    apiKeys: new ApiKeys(stores.apiKeys, accounts, now),
    linkCodes: new LinkCodes(stores.linkCodes, accounts, now),
  };
}
