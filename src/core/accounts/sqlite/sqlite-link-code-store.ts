import type { SqliteDatabase } from '../../database/open-database.ts';
import type { LinkCodeStore } from '../link-code-store.ts';

/**
 * `LinkCodeStore` on SQLite. A redemption is one IMMEDIATE transaction: the guarded claim
 * (`… WHERE used_at IS NULL AND expires_at > now`) and the link commit together, and SQLite serialises it
 * against every other writer of the file, so one of several redemptions of a code wins.
 */
export class SqliteLinkCodeStore implements LinkCodeStore {
  readonly #insert;
  readonly #redeem;

  constructor(database: SqliteDatabase) {
    const statements = {
      insert: database.prepare<[string, string, string], void>(
        'INSERT INTO link_codes (code_hash, user_id, expires_at) VALUES (?, ?, ?)',
      ),
      purgeExpired: database.prepare<[string], void>('DELETE FROM link_codes WHERE expires_at < ?'),
      claim: database.prepare<[string, string, string, string], { user_id: string }>(
        `UPDATE link_codes SET used_at = ?, used_by = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?
         RETURNING user_id`,
      ),
      // The same link as `SqliteAccountStore.link`, here so the claim and the link share a transaction.
      link: database.prepare<[string, string, string], void>(
        `INSERT INTO identities (identity, user_id, linked_at) VALUES (?, ?, ?)
         ON CONFLICT (identity) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at`,
      ),
    };
    this.#insert = database.transaction(
      (codeHash: string, userId: string, expiresAt: string, purgeBefore: string) => {
        statements.purgeExpired.run(purgeBefore);
        statements.insert.run(codeHash, userId, expiresAt);
      },
    );
    this.#redeem = database.transaction((codeHash: string, identity: string, now: string) => {
      const claimed = statements.claim.get(now, identity, codeHash, now);
      if (!claimed) return undefined;
      statements.link.run(identity, claimed.user_id, now);
      return claimed.user_id;
    });
  }

  async insert(codeHash: string, userId: string, expiresAt: Date, purgeBefore: Date): Promise<void> {
    this.#insert.immediate(codeHash, userId, expiresAt.toISOString(), purgeBefore.toISOString());
  }

  async redeem(codeHash: string, identity: string, now: Date): Promise<string | undefined> {
    return this.#redeem.immediate(codeHash, identity, now.toISOString());
  }
}
