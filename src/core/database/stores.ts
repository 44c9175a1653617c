import type { AccountStore } from '../accounts/account-store.ts';
import type { ApiKeyStore } from '../accounts/api-key-store.ts';
import type { LinkCodeStore } from '../accounts/link-code-store.ts';
import type { AdminReportStore } from '../admin/admin-report-store.ts';
import type { AuditStore } from '../admin/audit-store.ts';
import type { ConsoleSessionStore } from '../admin/console-session-store.ts';
import type { GenerationFailureStore } from '../admin/generation-failure-store.ts';
import type { ChatAdminStore } from '../chat/chat-admin-store.ts';
import type { CooldownStore } from '../chat/cooldown-store.ts';
import type { ProcessedEventStore } from '../chat/processed-event-store.ts';
import type { SettingsStore } from '../chat/settings-store.ts';
import type { GenerationStore } from '../generation/generation-store.ts';
import type { IdempotencyStore } from '../jobs/idempotency-store.ts';
import type { JobStore } from '../jobs/job-store.ts';
import type { QuotaStore } from '../quota/quota-store.ts';
import type { HealthStore } from './database-probe.ts';

/**
 * Every store the service keeps, on one engine: `sqlite/sqlite-stores.ts` builds them on the embedded
 * file, `postgres/postgres-stores.ts` on a PostgreSQL pool. Each field is an engine-neutral interface whose
 * contract suite (`*.contract.ts` beside it) runs against both builders, so the engines cannot drift.
 * A new store adds one field here and one line to each builder.
 */
export interface Stores {
  quota: QuotaStore;
  generations: GenerationStore;
  idempotencyKeys: IdempotencyStore;
  jobs: JobStore;
  processedEvents: ProcessedEventStore;
  chatCooldowns: CooldownStore;
  personalSettings: SettingsStore;
  chatAdmin: ChatAdminStore;
  audit: AuditStore;
  consoleSessions: ConsoleSessionStore;
  generationFailures: GenerationFailureStore;
  adminReports: AdminReportStore;
  health: HealthStore;
  accounts: AccountStore;
  apiKeys: ApiKeyStore;
  linkCodes: LinkCodeStore;
}

/** The engine-neutral name of an engine, for logs, `/health` and the contract suites' labels. */
export type StoreEngineName = 'sqlite' | 'postgres';
