import type { ApiKeys } from '../accounts/api-keys.ts';
import type { UserAccounts } from '../accounts/user-accounts.ts';
import type { Stores } from '../database/stores.ts';
import type { ImageModelRegistry } from '../providers/image-model-registry.ts';
import type { PlanCatalog } from '../quota/plans.ts';
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

/** Builds the admin services over the stores and the accounts. */
export function createAdminServices(dependencies: {
  stores: Pick<Stores, 'audit' | 'adminReports' | 'consoleSessions'>;
  accounts: UserAccounts;
  apiKeys: ApiKeys;
  storage: ImageStorage;
  models: ImageModelRegistry;
  plans: PlanCatalog;
  defaultModel: string;
  budgetUsd: number | undefined;
  sessionHours: number;
  now: () => Date;
}): AdminServices {
  const { stores, now } = dependencies;
  const audit = new AuditLog(stores.audit, now);
  const queries = new AdminQueries(stores.adminReports, {
    plans: dependencies.plans,
    providerOf: (modelId) => dependencies.models.get(modelId)?.provider ?? 'unknown',
    defaultModel: dependencies.defaultModel,
    now,
  });
  return {
    queries,
    audit,
    actions: new AdminActions({
      accounts: dependencies.accounts,
      apiKeys: dependencies.apiKeys,
      storage: dependencies.storage,
      audit,
      plans: dependencies.plans,
    }),
    sessions: new ConsoleSessions(stores.consoleSessions, { lifetimeHours: dependencies.sessionHours, now }),
    budgetUsd: dependencies.budgetUsd,
  };
}
