import type { Sql } from 'postgres';
import { PostgresAccountStore } from '../../accounts/postgres/postgres-account-store.ts';
import { PostgresApiKeyStore } from '../../accounts/postgres/postgres-api-key-store.ts';
import { PostgresLinkCodeStore } from '../../accounts/postgres/postgres-link-code-store.ts';
import { PostgresAdminReportStore } from '../../admin/postgres/postgres-admin-report-store.ts';
import { PostgresAuditStore } from '../../admin/postgres/postgres-audit-store.ts';
import { PostgresConsoleSessionStore } from '../../admin/postgres/postgres-console-session-store.ts';
import { PostgresGenerationFailureStore } from '../../admin/postgres/postgres-generation-failure-store.ts';
import { PostgresChatAdminStore } from '../../chat/postgres/postgres-chat-admin-store.ts';
import { PostgresCooldownStore } from '../../chat/postgres/postgres-cooldown-store.ts';
import { PostgresProcessedEventStore } from '../../chat/postgres/postgres-processed-event-store.ts';
import { PostgresSettingsStore } from '../../chat/postgres/postgres-settings-store.ts';
import { PostgresGenerationStore } from '../../generation/postgres/postgres-generation-store.ts';
import { PostgresIdempotencyStore } from '../../jobs/postgres/postgres-idempotency-store.ts';
import { PostgresJobStore } from '../../jobs/postgres/postgres-job-store.ts';
import { PostgresQuotaStore } from '../../quota/postgres/postgres-quota-store.ts';
import type { Stores } from '../stores.ts';
import { PostgresHealthStore } from './postgres-health-store.ts';

/** What the PostgreSQL stores share: the pool (migrated by `openPostgres`) and the clock. */
export interface PostgresStoreContext {
  sql: Sql;
  now: () => Date;
}

/** Every store on a PostgreSQL database (`DATABASE_URL`). */
export function openPostgresStores(context: PostgresStoreContext): Stores {
  return {
    quota: new PostgresQuotaStore(context.sql),
    generations: new PostgresGenerationStore(context.sql),
    idempotencyKeys: new PostgresIdempotencyStore(context.sql),
    jobs: new PostgresJobStore(context.sql),
    processedEvents: new PostgresProcessedEventStore(context.sql),
    chatCooldowns: new PostgresCooldownStore(context.sql),
    personalSettings: new PostgresSettingsStore(context.sql),
    chatAdmin: new PostgresChatAdminStore(context.sql),
    audit: new PostgresAuditStore(context.sql),
    consoleSessions: new PostgresConsoleSessionStore(context.sql),
    generationFailures: new PostgresGenerationFailureStore(context.sql),
    adminReports: new PostgresAdminReportStore(context.sql),
    health: new PostgresHealthStore(context.sql),
    accounts: new PostgresAccountStore(context.sql, context.now),
    apiKeys: new PostgresApiKeyStore(context.sql, context.now),
    linkCodes: new PostgresLinkCodeStore(context.sql),
  };
}
