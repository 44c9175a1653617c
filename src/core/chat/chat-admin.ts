import type { UserAccounts } from '../accounts/user-accounts.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { billingPeriod } from '../quota/billing-period.ts';
import { userSubject } from '../quota/quota-accounting.ts';
import type { AdminAction, AdminActionEntry, ChatAdminStore } from './chat-admin-store.ts';
import type { ChatIdentity } from './chat-images.ts';

export type { AdminAction } from './chat-admin-store.ts';

/** Who did an admin action, and where (`discord-guild:<id>`, `slack-team:<id>`). */
export interface AdminActor {
  identity: ChatIdentity;
  scopeKey: string | undefined;
}

/** This place's month, for `/imagine-admin usage`. */
export interface PlaceUsage {
  period: string;
  /** Images charged to people while acting here (counted since the community controls were installed). */
  images: number;
  top: { identity: string; images: number }[];
}

/**
 * The quota_counters subject of the images an identity was charged for at a place (a server, a workspace),
 * for its month totals and top users. Chat generations hand it to the ledger (`tally`), which adds exactly
 * what it charges, whatever the kind (new images, rerolls, variations, remixes, upscales, recovered jobs).
 */
export const placeSubject = (scopeKey: string, identity: string) => `place:${scopeKey}:${identity}`;

/**
 * What `/imagine-admin` does, the same for Discord and Slack: grant extra images this month, set a plan,
 * refund an image, this place's month, block and unblock. Every action is written to `admin_actions` with
 * who did it: a block, an unblock and a refund in the same transaction as the change (the store's); a
 * grant and a plan right after the change, which the accounts make. Who counts as an admin is each
 * platform's decision.
 */
export class ChatAdmin {
  readonly #store: ChatAdminStore;
  readonly #accounts: UserAccounts;
  readonly #now: () => Date;

  constructor(store: ChatAdminStore, accounts: UserAccounts, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#accounts = accounts;
    this.#now = now;
  }

  /** `grant <user> <images>`: extra images this month on the quota the person draws on. */
  async grant(
    actor: AdminActor,
    target: ChatIdentity,
    images: number,
  ): Promise<{ userId: string; extra: number }> {
    if (!Number.isInteger(images) || images < 1 || images > 100_000) {
      throw new ImagineError('validation_error', 'Grant a whole number of images from 1 to 100000.');
    }
    const userId = (await this.#accounts.chatCaller(target)).userId;
    const period = billingPeriod(this.#now());
    // The accounts' store may be another engine's: the grant is made, then audited (no shared transaction).
    await this.#accounts.grants.add(userId, period, images);
    await this.#audit(actor, 'grant', target, { images, userId, period });
    return { userId, extra: await this.extraImages(userId) };
  }

  /** Extra images granted to a quota subject for the current month. */
  async extraImages(userId: string): Promise<number> {
    return this.#accounts.grants.extraImages(userId, billingPeriod(this.#now()));
  }

  /** `plan <user> <plan>`: the plan of the quota the person draws on (their linked account, or their own). */
  async setPlan(actor: AdminActor, target: ChatIdentity, plan: string): Promise<{ userId: string }> {
    const userId = (await this.#accounts.chatCaller(target)).userId;
    try {
      await this.#accounts.setPlan(userId, plan);
    } catch (error) {
      throw new ImagineError('validation_error', (error as Error).message);
    }
    await this.#audit(actor, 'plan', target, { plan, userId });
    return { userId };
  }

  /** `refund <image id>`: gives back the one image it charged, once, in the month it was charged. */
  async refund(actor: AdminActor, imageId: string): Promise<{ userId: string }> {
    const id = imageId.trim();
    const generation = await this.#store.generation(id);
    if (!generation) throw new ImagineError('not_found', `No image has the id ${id}.`);
    const period = billingPeriod(generation.createdAt);
    const refunded = await this.#store.refundOnce(
      this.#entry(actor, id, { userId: generation.userId, period }),
      userSubject(generation.userId),
      period,
    );
    if (!refunded) throw new ImagineError('validation_error', 'That image was refunded already.');
    return { userId: generation.userId };
  }

  /** `usage`: this place's month, with its top five users. */
  async placeUsage(actor: AdminActor): Promise<PlaceUsage> {
    const period = billingPeriod(this.#now());
    if (!actor.scopeKey) return { period, images: 0, top: [] };
    const prefix = placeSubject(actor.scopeKey, '');
    const counts = await this.#store.countsWithPrefix(prefix, period);
    const images = counts.reduce((total, count) => total + count.images, 0);
    await this.#audit(actor, 'usage', actor.scopeKey, {});
    return {
      period,
      images,
      top: counts
        .slice(0, 5)
        .map((count) => ({ identity: count.subject.slice(prefix.length), images: count.images })),
    };
  }

  /** `block <user>`: the person may not make images here any more (every place of the service). */
  block(actor: AdminActor, target: ChatIdentity): Promise<void> {
    return this.#store.block(target, { ...this.#entry(actor, target, {}), action: 'block' });
  }

  unblock(actor: AdminActor, target: ChatIdentity): Promise<boolean> {
    return this.#store.unblock(target, (removed) => ({
      ...this.#entry(actor, target, { wasBlocked: removed }),
      action: 'unblock',
    }));
  }

  isBlocked(identity: ChatIdentity): Promise<boolean> {
    return this.#store.isBlocked(identity);
  }

  /** The latest audited actions, newest first. */
  recentActions(limit = 50): Promise<AdminAction[]> {
    return this.#store.recentActions(limit);
  }

  #entry(
    actor: AdminActor,
    target: string,
    detail: Record<string, unknown>,
  ): Omit<AdminActionEntry, 'action'> {
    return { at: this.#now(), actor: actor.identity, place: actor.scopeKey, target, detail };
  }

  #audit(actor: AdminActor, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    return this.#store.audit({ ...this.#entry(actor, target, detail), action });
  }
}
