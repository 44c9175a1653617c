import type { Sql } from 'postgres';
import { PostgresAccountStore } from '../../accounts/postgres/postgres-account-store.ts';
import { PostgresApiKeyStore } from '../../accounts/postgres/postgres-api-key-store.ts';
import { PostgresLinkCodeStore } from '../../accounts/postgres/postgres-link-code-store.ts';
import { PostgresQuotaStore } from '../../quota/postgres/postgres-quota-store.ts';
import type { Stores } from '../stores.ts';

/** What the PostgreSQL stores share: the pool (migrated by `openPostgres`) and the clock. */
export interface PostgresStoreContext {
  sql: Sql;
  now: () => Date;
}

/** Every store on a PostgreSQL database (`DATABASE_URL`). */
export function openPostgresStores(context: PostgresStoreContext): Stores {
  return {
    quota: new PostgresQuotaStore(context.sql),
    accounts: new PostgresAccountStore(context.sql),
    apiKeys: new PostgresApiKeyStore(context.sql, context.now),
    linkCodes: new PostgresLinkCodeStore(context.sql),
  };
}
