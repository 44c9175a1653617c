import { ExternalChangeWatch } from '../../database/external-change-watch.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import type { AccountStore, LinkedAccount, StoredUser } from '../account-store.ts';

/** `AccountStore` on SQLite: prepared statements, synchronous under the promises. */
export class SqliteAccountStore implements AccountStore {
  readonly #statements;
  readonly #otherConnections: ExternalChangeWatch;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#otherConnections = new ExternalChangeWatch(database, () => now().getTime());
    this.#statements = {
      user: database.prepare<[string], { plan: string | null }>('SELECT plan FROM users WHERE id = ?'),
      insertUser: database.prepare<[string, string | null, string], void>(
        'INSERT OR IGNORE INTO users (id, plan, created_at) VALUES (?, ?, ?)',
      ),
      replacePlan: database.prepare<[string, string], void>('UPDATE users SET plan = ? WHERE id = ?'),
      upsertPlan: database.prepare<[string, string, string], void>(
        `INSERT INTO users (id, plan, created_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET plan = excluded.plan`,
      ),
      linkedAccount: database.prepare<[string], { user_id: string; plan: string | null }>(
        `SELECT identities.user_id, users.plan FROM identities JOIN users ON users.id = identities.user_id
         WHERE identities.identity = ?`,
      ),
      link: database.prepare<[string, string, string], void>(
        `INSERT INTO identities (identity, user_id, linked_at) VALUES (?, ?, ?)
         ON CONFLICT (identity) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at`,
      ),
      unlink: database.prepare<[string], void>('DELETE FROM identities WHERE identity = ?'),
      identitiesOf: database.prepare<[string], { identity: string }>(
        'SELECT identity FROM identities WHERE user_id = ? ORDER BY identity',
      ),
      addGranted: database.prepare<[string, string, number], void>(
        `INSERT INTO quota_counters (subject, period, used_images) VALUES (?, ?, ?)
         ON CONFLICT (subject, period) DO UPDATE SET used_images = used_images + excluded.used_images`,
      ),
      granted: database.prepare<[string, string], { used_images: number }>(
        'SELECT used_images FROM quota_counters WHERE subject = ? AND period = ?',
      ),
    };
  }

  async user(userId: string): Promise<StoredUser | undefined> {
    const row = this.#statements.user.get(userId);
    return row && { plan: row.plan ?? undefined };
  }

  async ensureUser(userId: string, plan: string | undefined, now: Date): Promise<boolean> {
    // Synchronous, so nothing in this process comes between the insert and the comparison.
    if (this.#statements.insertUser.run(userId, plan ?? null, now.toISOString()).changes > 0) return false;
    if (plan === undefined || this.#statements.user.get(userId)?.plan === plan) return false;
    this.#statements.replacePlan.run(plan, userId);
    return true;
  }

  async setPlan(userId: string, plan: string, now: Date): Promise<void> {
    this.#statements.upsertPlan.run(userId, plan, now.toISOString());
  }

  async linkedAccount(identity: string): Promise<LinkedAccount | undefined> {
    const row = this.#statements.linkedAccount.get(identity);
    return row && { userId: row.user_id, plan: row.plan ?? undefined };
  }

  async link(identity: string, userId: string, now: Date): Promise<void> {
    this.#statements.link.run(identity, userId, now.toISOString());
  }

  async unlink(identity: string): Promise<boolean> {
    return this.#statements.unlink.run(identity).changes > 0;
  }

  async identitiesOf(userId: string): Promise<string[]> {
    return this.#statements.identitiesOf.all(userId).map((row) => row.identity);
  }

  async addGrantedImages(subject: string, period: string, images: number): Promise<void> {
    this.#statements.addGranted.run(subject, period, images);
  }

  /** Any commit through another connection (another process, the CLI) counts: it may have granted images. */
  grantsChangedElsewhere(): boolean {
    return this.#otherConnections.changedSinceLastCheck();
  }

  async grantedImages(subject: string, period: string): Promise<number> {
    return this.#statements.granted.get(subject, period)?.used_images ?? 0;
  }
}
