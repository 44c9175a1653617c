import type { PlanDefinition } from './plans.ts';

// Kept in quota_counters beside the ledger's own subjects: one row per quota subject and month.
const grantSubject = (userId: string) => `grant:user:${userId}`;

/** Where grants are kept: an image count per counter subject and month (`quota_counters` on both engines). */
export interface ImageGrantStore {
  /** Adds `images` to the subject's count for `period`, creating the row if new. */
  addGrantedImages(subject: string, period: string, images: number): Promise<void>;
  /** The subject's count for `period`; 0 when none. */
  grantedImages(subject: string, period: string): Promise<number>;
  /**
   * True once after another process (or the CLI) may have changed grants; looked up at most every 250 ms,
   * so a grant made elsewhere raises a limit here within that.
   */
  grantsChangedElsewhere(): boolean | Promise<boolean>;
}

/** Callers cached per month before the cache starts again: bounded, and far more than active users. */
const maximumCachedCallers = 100_000;

/**
 * Extra images an admin granted a quota subject for one month (`/imagine-admin grant`). They raise the
 * monthly limit of whatever plan applies to that subject, from every front door (chat, API key, Firebase
 * token): `UserAccounts` adds them when it resolves a caller, so nothing else computes the limit.
 */
export class ImageGrants {
  readonly #store: ImageGrantStore;
  /**
   * Granted images by user, for `#cachedPeriod`. Every request resolves its caller here, and grants are
   * rare (an admin's action), so a read per request was a statement (on PostgreSQL a round trip) spent on
   * a number that almost never moves. Grants made here drop the cache at once; made elsewhere, within
   * 250 ms (`grantsChangedElsewhere`).
   */
  #cache = new Map<string, number>();
  #cachedPeriod = '';
  /** Counts drops: a read that began before one may hold what the drop was for, and is not cached. */
  #drops = 0;

  constructor(store: ImageGrantStore) {
    this.#store = store;
  }

  /** Adds `images` to the subject's grant for `period` (`YYYY-MM`). */
  async add(userId: string, period: string, images: number): Promise<void> {
    try {
      await this.#store.addGrantedImages(grantSubject(userId), period, images);
    } finally {
      this.#drop();
    }
  }

  /** The images granted to the subject for `period`; 0 when none. */
  async extraImages(userId: string, period: string): Promise<number> {
    let changed = this.#store.grantsChangedElsewhere();
    if (typeof changed !== 'boolean') changed = await changed;
    if (changed || period !== this.#cachedPeriod) {
      this.#drop();
      this.#cachedPeriod = period;
    }
    const cached = this.#cache.get(userId);
    if (cached !== undefined) return cached;
    const drops = this.#drops;
    const granted = await this.#store.grantedImages(grantSubject(userId), period);
    if (drops === this.#drops && period === this.#cachedPeriod) {
      if (this.#cache.size >= maximumCachedCallers) this.#cache.clear();
      this.#cache.set(userId, granted);
    }
    return granted;
  }

  #drop(): void {
    this.#cache.clear();
    this.#drops++;
  }
}

/** The plan with `extra` granted images on top of its monthly allowance (the daily one is unchanged). */
export function withExtraImages(plan: PlanDefinition, extra: number): PlanDefinition {
  return extra === 0 ? plan : { ...plan, monthlyImages: plan.monthlyImages + extra };
}
