import type { Sql } from 'postgres';
import type { AccountStore, LinkedAccount, StoredUser } from '../account-store.ts';
import { AccountChangeWatch } from './account-change-watch.ts';

/** `AccountStore` on PostgreSQL: each method one statement, in autocommit. */
export class PostgresAccountStore implements AccountStore {
  readonly #sql: Sql;
  readonly #grantChanges: AccountChangeWatch;

  constructor(sql: Sql, now: () => Date = () => new Date()) {
    this.#sql = sql;
    this.#grantChanges = new AccountChangeWatch(sql, now);
  }

  async user(userId: string): Promise<StoredUser | undefined> {
    const [row] = await this.#sql<{ plan: string | null }[]>`SELECT plan FROM users WHERE id = ${userId}`;
    return row && { plan: row.plan ?? undefined };
  }

  async ensureUser(userId: string, plan: string | undefined, now: Date): Promise<boolean> {
    if (plan === undefined) {
      await this.#sql`
        INSERT INTO users (id, plan, created_at) VALUES (${userId}, NULL, ${now}) ON CONFLICT (id) DO NOTHING`;
      return false;
    }
    // One statement: the row is created, or its plan replaced when it differs. `xmax` is 0 on a row this
    // statement inserted and set on one it updated, which tells a replaced plan from a new account.
    const [row] = await this.#sql<{ inserted: boolean }[]>`
      INSERT INTO users AS stored (id, plan, created_at) VALUES (${userId}, ${plan}, ${now})
      ON CONFLICT (id) DO UPDATE SET plan = excluded.plan WHERE stored.plan IS DISTINCT FROM excluded.plan
      RETURNING stored.xmax = 0 AS inserted`;
    return row !== undefined && !row.inserted;
  }

  async setPlan(userId: string, plan: string, now: Date): Promise<void> {
    await this.#sql`
      INSERT INTO users (id, plan, created_at) VALUES (${userId}, ${plan}, ${now})
      ON CONFLICT (id) DO UPDATE SET plan = excluded.plan`;
  }

  async linkedAccount(identity: string): Promise<LinkedAccount | undefined> {
    const [row] = await this.#sql<{ user_id: string; plan: string | null }[]>`
      SELECT identities.user_id, users.plan FROM identities JOIN users ON users.id = identities.user_id
      WHERE identities.identity = ${identity}`;
    return row && { userId: row.user_id, plan: row.plan ?? undefined };
  }

  async link(identity: string, userId: string, now: Date): Promise<void> {
    await this.#sql`
      INSERT INTO identities (identity, user_id, linked_at) VALUES (${identity}, ${userId}, ${now})
      ON CONFLICT (identity) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at`;
  }

  async unlink(identity: string): Promise<boolean> {
    const removed = await this.#sql`DELETE FROM identities WHERE identity = ${identity}`;
    return removed.count > 0;
  }

  async identitiesOf(userId: string): Promise<string[]> {
    // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
    const rows = await this.#sql<{ identity: string }[]>`
      SELECT identity FROM identities WHERE user_id = ${userId} ORDER BY identity COLLATE "C"`;
    return rows.map((row) => row.identity);
  }

  async addGrantedImages(subject: string, period: string, images: number): Promise<void> {
    // The change counter moves in the same statement, so every process's grant cache hears of it.
    await this.#sql`
      WITH added AS (
        INSERT INTO quota_counters AS counter (subject, period, used_images) VALUES (${subject}, ${period}, ${images})
        ON CONFLICT (subject, period) DO UPDATE SET used_images = counter.used_images + excluded.used_images
        RETURNING 1
      )
      INSERT INTO account_changes AS changes (id, version) SELECT 1, 1 FROM added
      ON CONFLICT (id) DO UPDATE SET version = changes.version + 1`;
  }

  grantsChangedElsewhere(): boolean | Promise<boolean> {
    return this.#grantChanges.changedSinceLastCheck();
  }

  async grantedImages(subject: string, period: string): Promise<number> {
    const [row] = await this.#sql<{ used_images: number }[]>`
      SELECT used_images FROM quota_counters WHERE subject = ${subject} AND period = ${period}`;
    return row?.used_images ?? 0;
  }
}
