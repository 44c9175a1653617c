import type { PlanDefinition } from './plans.ts';

// Kept in quota_counters beside the ledger's own subjects: one row per quota subject and month.
const grantSubject = (userId: string) => `grant:user:${userId}`;

/** Where grants are kept: an image count per counter subject and month (`quota_counters` on both engines). */
export interface ImageGrantStore {
  /** Adds `images` to the subject's count for `period`, creating the row if new. */
  addGrantedImages(subject: string, period: string, images: number): Promise<void>;
  /** The subject's count for `period`; 0 when none. */
  grantedImages(subject: string, period: string): Promise<number>;
}

/**
 * Extra images an admin granted a quota subject for one month (`/imagine-admin grant`). They raise the
 * monthly limit of whatever plan applies to that subject, from every front door (chat, API key, Firebase
 * token): `UserAccounts` adds them when it resolves a caller, so nothing else computes the limit.
 */
export class ImageGrants {
  readonly #store: ImageGrantStore;

  constructor(store: ImageGrantStore) {
    this.#store = store;
  }

  /** Adds `images` to the subject's grant for `period` (`YYYY-MM`). */
  async add(userId: string, period: string, images: number): Promise<void> {
    await this.#store.addGrantedImages(grantSubject(userId), period, images);
  }

  /** The images granted to the subject for `period`; 0 when none. */
  extraImages(userId: string, period: string): Promise<number> {
    return this.#store.grantedImages(grantSubject(userId), period);
  }
}

/** The plan with `extra` granted images on top of its monthly allowance (the daily one is unchanged). */
export function withExtraImages(plan: PlanDefinition, extra: number): PlanDefinition {
  return extra === 0 ? plan : { ...plan, monthlyImages: plan.monthlyImages + extra };
}
