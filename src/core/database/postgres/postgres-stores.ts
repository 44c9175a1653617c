import type { Sql } from 'postgres';
import { PostgresChatAdminStore } from '../../chat/postgres/postgres-chat-admin-store.ts';
import { PostgresCooldownStore } from '../../chat/postgres/postgres-cooldown-store.ts';
import { PostgresProcessedEventStore } from '../../chat/postgres/postgres-processed-event-store.ts';
import { PostgresSettingsStore } from '../../chat/postgres/postgres-settings-store.ts';
import { PostgresGenerationStore } from '../../generation/postgres/postgres-generation-store.ts';
import { PostgresIdempotencyStore } from '../../jobs/postgres/postgres-idempotency-store.ts';
import { PostgresJobStore } from '../../jobs/postgres/postgres-job-store.ts';
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
    generations: new PostgresGenerationStore(context.sql),
    idempotencyKeys: new PostgresIdempotencyStore(context.sql),
    jobs: new PostgresJobStore(context.sql),
    processedEvents: new PostgresProcessedEventStore(context.sql),
    chatCooldowns: new PostgresCooldownStore(context.sql),
    personalSettings: new PostgresSettingsStore(context.sql),
    chatAdmin: new PostgresChatAdminStore(context.sql),
  };
}
