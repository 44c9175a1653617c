import type { ApiKeys } from '../accounts/api-keys.ts';
import type { UserAccounts } from '../accounts/user-accounts.ts';
import type { SqliteDatabase } from '../database/open-database.ts';
import type { ImageModelRegistry } from '../providers/image-model-registry.ts';
import type { PlanCatalog } from '../quota/plans.ts';
import type { QuotaLedger } from '../quota/quota-ledger.ts';
import type { ImageStorage } from '../storage/image-storage.ts';
import { AdminActions } from './admin-actions.ts';
import { AdminQueries } from './admin-queries.ts';
import { AuditLog } from './audit-log.ts';
import { ConsoleSessions } from './console-sessions.ts';

/** What the admin API and the operator console share. */
export interface AdminServices {
  queries: AdminQueries;
  actions: AdminActions;
  audit: AuditLog;
  sessions: ConsoleSessions;
  /** The operator's MONTHLY_BUDGET_USD, shown against spending. */
  budgetUsd: number | undefined;
}

/** Builds the admin services over the shared database and stores. */
export function createAdminServices(dependencies: {
  database: SqliteDatabase;
  accounts: UserAccounts;
  apiKeys: ApiKeys;
  ledger: QuotaLedger;
  storage: ImageStorage;
  models: ImageModelRegistry;
  plans: PlanCatalog;
  defaultModel: string;
  budgetUsd: number | undefined;
  sessionHours: number;
  now: () => Date;
}): AdminServices {
  const { database, now } = dependencies;
  const audit = new AuditLog(database, now);
  const queries = new AdminQueries(database, {
    plans: dependencies.plans,
    providerOf: (modelId) => dependencies.models.get(modelId)?.provider ?? 'unknown',
    defaultModel: dependencies.defaultModel,
    now,
  });
  return {
    queries,
    audit,
    actions: new AdminActions({ ...dependencies, queries, audit }),
    sessions: new ConsoleSessions(database, { lifetimeHours: dependencies.sessionHours, now }),
    budgetUsd: dependencies.budgetUsd,
  };
}
