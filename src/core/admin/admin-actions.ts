import type { ApiKeySummary, ApiKeys } from '../accounts/api-keys.ts';
import type { UserAccounts } from '../accounts/user-accounts.ts';
import { ImagineError, validationError } from '../errors/imagine-error.ts';
import type { PlanCatalog } from '../quota/plans.ts';
import type { ImageStorage } from '../storage/image-storage.ts';
import { type AdminImage, shownImage } from './admin-queries.ts';
import type { AuditLog } from './audit-log.ts';

/** Who is acting: the admin key's prefix and owner, as the audit trail names them. */
export interface AdminActor {
  keyPrefix: string;
  userId: string;
}

/** What the admin actions read and change. */
export interface AdminActionsDependencies {
  accounts: UserAccounts;
  apiKeys: ApiKeys;
  storage: ImageStorage;
  audit: AuditLog;
  plans: PlanCatalog;
}

/**
 * The changes an operator can make from the admin API or console, each with its audit row. Deleting an
 * image is one transaction with its refund and its row. A plan or key change goes through the accounts
 * classes, whose caches authenticate every request, so it cannot share a transaction with the trail: its
 * row follows once the change succeeded, so the trail never records a change that did not happen.
 */
export class AdminActions {
  readonly #dependencies: AdminActionsDependencies;

  constructor(dependencies: AdminActionsDependencies) {
    this.#dependencies = dependencies;
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
    const before = (await accounts.appCaller(userId)).plan.name;
    await accounts.setPlan(userId, plan);
    await audit.record({
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
    const { storage, audit } = this.#dependencies;
    const deleted = await audit.deleteImage(id, {
      refundFor: options.refund
        ? (image) => ({
            userId: image.userId,
            period: image.createdAt.slice(0, 7),
            charge: { images: 1, costUsd: image.costUsd },
          })
        : undefined,
      entryFor: (image) => ({
        actor: actorName(actor),
        action: 'image.delete',
        target: id,
        before: shownImage(image),
        after: { refunded: options.refund },
      }),
    });
    if (!deleted) throw new ImagineError('not_found', 'No image with that id');
    // The record goes first: a file without its record is what recovery already cleans up, while a record
    // whose file is gone would show a broken image.
    await storage.remove(deleted.storageKey);
    return shownImage(deleted);
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
    const summary = await this.#listed(key.slice(0, 12));
    if (!summary) throw new Error('the key just created is not listed');
    await audit.record({
      actor: actorName(actor),
      action: 'key.create',
      target: summary.prefix,
      before: null,
      after: summary,
    });
    return { key, summary };
  }

  /** Revokes a key by its listed prefix; its console sessions end with it. */
  async revokeKey(actor: AdminActor, prefix: string): Promise<ApiKeySummary> {
    const { apiKeys, audit } = this.#dependencies;
    const before = await this.#listed(prefix);
    if (!before) throw new ImagineError('not_found', 'No API key with that prefix');
    if (before.revokedAt === null) await apiKeys.revoke(prefix);
    const after = await this.#listed(prefix);
    if (!after) throw new Error('the key just revoked is not listed');
    await audit.record({ actor: actorName(actor), action: 'key.revoke', target: prefix, before, after });
    return after;
  }

  async #listed(prefix: string): Promise<ApiKeySummary | undefined> {
    return (await this.#dependencies.apiKeys.list()).find((listed) => listed.prefix === prefix);
  }
}

function actorName(actor: AdminActor): string {
  return `${actor.keyPrefix} (${actor.userId})`;
}
