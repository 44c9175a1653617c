import { SqliteAccountStore } from '../../accounts/sqlite/sqlite-account-store.ts';
import { SqliteApiKeyStore } from '../../accounts/sqlite/sqlite-api-key-store.ts';
import { SqliteLinkCodeStore } from '../../accounts/sqlite/sqlite-link-code-store.ts';
import { SqliteAdminReportStore } from '../../admin/sqlite/sqlite-admin-report-store.ts';
import { SqliteAuditStore } from '../../admin/sqlite/sqlite-audit-store.ts';
import { SqliteConsoleSessionStore } from '../../admin/sqlite/sqlite-console-session-store.ts';
import { SqliteGenerationFailureStore } from '../../admin/sqlite/sqlite-generation-failure-store.ts';
import { SqliteChatAdminStore } from '../../chat/sqlite/sqlite-chat-admin-store.ts';
import { SqliteCooldownStore } from '../../chat/sqlite/sqlite-cooldown-store.ts';
import { SqliteProcessedEventStore } from '../../chat/sqlite/sqlite-processed-event-store.ts';
import { SqliteSettingsStore } from '../../chat/sqlite/sqlite-settings-store.ts';
import { SqliteGenerationStore } from '../../generation/sqlite/sqlite-generation-store.ts';
import { SqliteIdempotencyStore } from '../../jobs/sqlite/sqlite-idempotency-store.ts';
import { SqliteJobStore } from '../../jobs/sqlite/sqlite-job-store.ts';
import { SqliteQuotaStore } from '../../quota/sqlite/sqlite-quota-store.ts';
import type { SqliteDatabase } from '../open-database.ts';
import type { Stores } from '../stores.ts';
import type { WriteBatcher } from '../write-batcher.ts';
import type { SqliteDamageWatch } from './sqlite-damage-watch.ts';
import { SqliteHealthStore } from './sqlite-health-store.ts';

/** What the SQLite stores share: the one connection, its group-commit batcher, and the clock. */
export interface SqliteStoreContext {
  database: SqliteDatabase;
  /** Writes on the request path go through it, so concurrent requests share one commit. */
  writes: WriteBatcher;
  now: () => Date;
  /** Where SQLite's damage reports go (the engine's); without it `/health` cannot say `damaged`. */
  damage?: SqliteDamageWatch;
}

/** Every store on the embedded SQLite file (the zero-setup default). */
/** The SQLite stores, with the two whose synchronous statements the group-commit writes run. */
export interface SqliteStores extends Stores {
  generations: SqliteGenerationStore;
  jobs: SqliteJobStore;
}

export function openSqliteStores(context: SqliteStoreContext): SqliteStores {
  const jobs = new SqliteJobStore(context.database, context.writes);
  return {
    quota: new SqliteQuotaStore(context.database),
    generations: new SqliteGenerationStore(context.database, context.writes),
    idempotencyKeys: new SqliteIdempotencyStore(context.database, jobs.rows),
    jobs,
    processedEvents: new SqliteProcessedEventStore(context.database),
    chatCooldowns: new SqliteCooldownStore(context.database),
    personalSettings: new SqliteSettingsStore(context.database),
    chatAdmin: new SqliteChatAdminStore(context.database),
    audit: new SqliteAuditStore(context.database),
    consoleSessions: new SqliteConsoleSessionStore(context.database),
    generationFailures: new SqliteGenerationFailureStore(context.database),
    adminReports: new SqliteAdminReportStore(context.database),
    health: new SqliteHealthStore(context.database, context.writes, context.damage),
    accounts: new SqliteAccountStore(context.database, context.now),
    apiKeys: new SqliteApiKeyStore(context.database, context.now),
    linkCodes: new SqliteLinkCodeStore(context.database),
  };
}
