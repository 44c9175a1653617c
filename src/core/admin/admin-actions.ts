import type { ApiKeySummary, ApiKeys } from '../accounts/api-keys.ts';
import type { UserAccounts } from '../accounts/user-accounts.ts';
import type { SqliteDatabase } from '../database/open-database.ts';
import { ImagineError, validationError } from '../errors/imagine-error.ts';
import type { PlanCatalog } from '../quota/plans.ts';
import type { QuotaLedger } from '../quota/quota-ledger.ts';
import type { ImageStorage } from '../storage/image-storage.ts';
import type { AdminImage, AdminQueries } from './admin-queries.ts';
import type { AuditLog } from './audit-log.ts';

/** Who is acting: the admin key's prefix and owner, as the audit trail names them. */
export interface AdminActor {
  keyPrefix: string;
  userId: string;
}

/** What the admin actions read and change. */
export interface AdminActionsDependencies {
  database: SqliteDatabase;
  accounts: UserAccounts;
  apiKeys: ApiKeys;
  ledger: QuotaLedger;
  storage: ImageStorage;
  queries: AdminQueries;
  audit: AuditLog;
  plans: PlanCatalog;
}

/**
 * The changes an operator can make from the admin API or console. Each is written together with its audit
 * row in one transaction, so the trail never misses a change nor records one that did not happen.
 */
export class AdminActions {
  readonly #dependencies: AdminActionsDependencies;
  readonly #deleteRecord;

  constructor(dependencies: AdminActionsDependencies) {
    this.#dependencies = dependencies;
    this.#deleteRecord = dependencies.database.prepare<[string], void>(
      'DELETE FROM generations WHERE id = ?',
    );
  }

  /** Moves an existing user to another plan; answers the plan before and after. */
  async setPlan(actor: AdminActor, userId: string, plan: string): Promise<{ before: string; after: string }> {
    const { accounts, audit, plans } = this.#dependencies;
    if (!plans.plans[plan]) {
      throw validationError([
        { field: 'plan', message: `unknown plan; plans are: ${Object.keys(plans.plans).join(', ')}` },
      ]);
    }
    if (!(await accounts.exists(userId))) throw new ImagineError('not_found', `No user "${userId}"`);
    // The accounts' store may be another engine's: the change is made, then audited (no shared transaction).
    const before = (await accounts.appCaller(userId)).plan.name;
    await accounts.setPlan(userId, plan);
    audit.record({
      actor: actorName(actor),
      action: 'user.plan',
      target: userId,
      before: { plan: before },
      after: { plan },
    });
    return { before, after: plan };
  }

  /**
   * Deletes a stored image: its record, then its file. Usage stays charged unless `refund`, which gives the
   * image and its cost back to its user's month and the budget.
   */
  async deleteImage(actor: AdminActor, id: string, options: { refund: boolean }): Promise<AdminImage> {
    const { database, queries, storage, ledger, audit } = this.#dependencies;
    const image = queries.image(id);
    if (!image) throw new ImagineError('not_found', 'No image with that id');
    database.transaction(() => {
      this.#deleteRecord.run(id);
      if (options.refund) {
        ledger.refund(image.userId, image.createdAt.slice(0, 7), { images: 1, costUsd: image.costUsd });
      }
      const { storageKey: _storageKey, ...shown } = image;
      audit.record({
        actor: actorName(actor),
        action: 'image.delete',
        target: id,
        before: shown,
        after: { refunded: options.refund },
      });
    })();
    // The record goes first: a file without its record is what recovery already cleans up, while a record
    // whose file is gone would show a broken image.
    await storage.remove(image.storageKey);
    const { storageKey: _storageKey, ...deleted } = image;
    return deleted;
  }

  /** Creates an API key; the key is returned once and never recorded. */
  async createKey(
    actor: AdminActor,
    request: { userId: string; plan: string | undefined; label: string | undefined; admin: boolean },
  ): Promise<{ key: string; summary: ApiKeySummary }> {
    const { apiKeys, audit, plans } = this.#dependencies;
    if (request.plan !== undefined && !plans.plans[request.plan]) {
      throw validationError([
        { field: 'plan', message: `unknown plan; plans are: ${Object.keys(plans.plans).join(', ')}` },
      ]);
    }
    const key = await apiKeys.create(request.userId, {
      plan: request.plan,
      label: request.label,
      admin: request.admin,
    });
    const prefix = key.slice(0, 12);
    const summary = (await apiKeys.list()).find((listed) => listed.prefix === prefix) as ApiKeySummary;
    audit.record({
      actor: actorName(actor),
      action: 'key.create',
      target: prefix,
      before: null,
      after: summary,
    });
    return { key, summary };
  }

  /** Revokes a key by its listed prefix; its console sessions end with it. */
  async revokeKey(actor: AdminActor, prefix: string): Promise<ApiKeySummary> {
    const { apiKeys, audit } = this.#dependencies;
    const before = (await apiKeys.list()).find((listed) => listed.prefix === prefix);
    if (!before) throw new ImagineError('not_found', 'No API key with that prefix');
    if (before.revokedAt === null) await apiKeys.revoke(prefix);
    const after = (await apiKeys.list()).find((listed) => listed.prefix === prefix) as ApiKeySummary;
    audit.record({ actor: actorName(actor), action: 'key.revoke', target: prefix, before, after });
    return after;
  }
}

function actorName(actor: AdminActor): string {
  return `${actor.keyPrefix} (${actor.userId})`;
}
