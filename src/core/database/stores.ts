import type { AccountStore } from '../accounts/account-store.ts';
import type { ApiKeyStore } from '../accounts/api-key-store.ts';
import type { LinkCodeStore } from '../accounts/link-code-store.ts';
import type { QuotaStore } from '../quota/quota-store.ts';

/**
 * Every store the service keeps, on one engine: `sqlite/sqlite-stores.ts` builds them on the embedded
 * file, `postgres/postgres-stores.ts` on a PostgreSQL pool. Each field is an engine-neutral interface whose
 * contract suite (`*.contract.ts` beside it) runs against both builders, so the engines cannot drift.
 * A new store adds one field here and one line to each builder.
 */
export interface Stores {
  quota: QuotaStore;
  accounts: AccountStore;
  apiKeys: ApiKeyStore;
  linkCodes: LinkCodeStore;
}

/** The engine-neutral name of an engine, for logs, `/health` and the contract suites' labels. */
export type StoreEngineName = 'sqlite' | 'postgres';
