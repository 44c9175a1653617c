import type { SqliteDatabase } from '../database/open-database.ts';
import type { PlanDefinition } from './plans.ts';

// Kept in quota_counters beside the ledger's own subjects: one row per quota subject and month.
const grantSubject = (userId: string) => `grant:user:${userId}`;

/**
 * Extra images an admin granted a quota subject for one month (`/imagine-admin grant`). They raise the
 * monthly limit of whatever plan applies to that subject, from every front door (chat, API key, Firebase
 * token): `UserAccounts` adds them when it resolves a caller, so nothing else computes the limit.
 */
export class ImageGrants {
  readonly #statements;

  constructor(database: SqliteDatabase) {
    this.#statements = {
      add: database.prepare<[string, string, number], void>(
        `INSERT INTO quota_counters (subject, period, used_images) VALUES (?, ?, ?)
         ON CONFLICT (subject, period) DO UPDATE SET used_images = used_images + excluded.used_images`,
      ),
      extra: database.prepare<[string, string], { used_images: number }>(
        'SELECT used_images FROM quota_counters WHERE subject = ? AND period = ?',
      ),
    };
  }

  /** Adds `images` to the subject's grant for `period` (`YYYY-MM`). */
  add(userId: string, period: string, images: number): void {
    this.#statements.add.run(grantSubject(userId), period, images);
  }

  /** The images granted to the subject for `period`; 0 when none. */
  extraImages(userId: string, period: string): number {
    return this.#statements.extra.get(grantSubject(userId), period)?.used_images ?? 0;
  }
}

/** The plan with `extra` granted images on top of its monthly allowance (the daily one is unchanged). */
export function withExtraImages(plan: PlanDefinition, extra: number): PlanDefinition {
  return extra === 0 ? plan : { ...plan, monthlyImages: plan.monthlyImages + extra };
}
