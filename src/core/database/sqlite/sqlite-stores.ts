import { SqliteAdminReportStore } from '../../admin/sqlite/sqlite-admin-report-store.ts';
import { SqliteAuditStore } from '../../admin/sqlite/sqlite-audit-store.ts';
import { SqliteConsoleSessionStore } from '../../admin/sqlite/sqlite-console-session-store.ts';
import { SqliteGenerationFailureStore } from '../../admin/sqlite/sqlite-generation-failure-store.ts';
import { SqliteQuotaStore } from '../../quota/sqlite/sqlite-quota-store.ts';
import type { SqliteDatabase } from '../open-database.ts';
import type { Stores } from '../stores.ts';
import type { WriteBatcher } from '../write-batcher.ts';
import { SqliteHealthStore } from './sqlite-health-store.ts';

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
    audit: new SqliteAuditStore(context.database),
    consoleSessions: new SqliteConsoleSessionStore(context.database),
    generationFailures: new SqliteGenerationFailureStore(context.database),
    adminReports: new SqliteAdminReportStore(context.database),
    health: new SqliteHealthStore(context.database, context.writes),
  };
}
