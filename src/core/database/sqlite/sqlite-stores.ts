import { SqliteAccountStore } from '../../accounts/sqlite/sqlite-account-store.ts';
import { SqliteApiKeyStore } from '../../accounts/sqlite/sqlite-api-key-store.ts';
import { SqliteLinkCodeStore } from '../../accounts/sqlite/sqlite-link-code-store.ts';
import { SqliteQuotaStore } from '../../quota/sqlite/sqlite-quota-store.ts';
import type { SqliteDatabase } from '../open-database.ts';
import type { Stores } from '../stores.ts';
import type { WriteBatcher } from '../write-batcher.ts';

/** What the SQLite stores share: the one connection, its group-commit batcher, and the clock. */
export interface SqliteStoreContext {
  database: SqliteDatabase;
  /** Writes on the request path go through it, so concurrent requests share one commit. */
  writes: WriteBatcher;
  now: () => Date;
}

/** Every store on the embedded SQLite file (the zero-setup default). */
export function openSqliteStores(context: SqliteStoreContext): Stores {
  return {
    quota: new SqliteQuotaStore(context.database),
    accounts: new SqliteAccountStore(context.database),
    apiKeys: new SqliteApiKeyStore(context.database, context.now),
    linkCodes: new SqliteLinkCodeStore(context.database),
  };
}
