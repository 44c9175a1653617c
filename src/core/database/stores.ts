import type { AdminReportStore } from '../admin/admin-report-store.ts';
import type { AuditStore } from '../admin/audit-store.ts';
import type { ConsoleSessionStore } from '../admin/console-session-store.ts';
import type { GenerationFailureStore } from '../admin/generation-failure-store.ts';
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
  audit: AuditStore;
  consoleSessions: ConsoleSessionStore;
  generationFailures: GenerationFailureStore;
  adminReports: AdminReportStore;
  health: HealthStore;
}

/** The engine-neutral name of an engine, for logs, `/health` and the contract suites' labels. */
export type StoreEngineName = 'sqlite' | 'postgres';
