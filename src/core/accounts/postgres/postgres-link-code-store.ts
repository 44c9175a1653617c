import type { Sql } from 'postgres';
import type { LinkCodeStore } from '../link-code-store.ts';

/**
 * `LinkCodeStore` on PostgreSQL. A redemption is one statement: the guarded claim
 * (`UPDATE … WHERE used_at IS NULL AND expires_at > now`) feeds the link. Concurrent claims of one code
 * queue on its row lock, and each one after the first re-checks the guard against the committed row and
 * finds the code used, so exactly one links.
 */
export class PostgresLinkCodeStore implements LinkCodeStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async insert(codeHash: string, userId: string, expiresAt: Date, purgeBefore: Date): Promise<void> {
    await this.#sql`
      WITH purged AS (DELETE FROM link_codes WHERE expires_at < ${purgeBefore})
      INSERT INTO link_codes (code_hash, user_id, expires_at) VALUES (${codeHash}, ${userId}, ${expiresAt})`;
  }

  async redeem(codeHash: string, identity: string, now: Date): Promise<string | undefined> {
    const [linked] = await this.#sql<{ user_id: string }[]>`
      WITH claimed AS (
        UPDATE link_codes SET used_at = ${now}, used_by = ${identity}
        WHERE code_hash = ${codeHash} AND used_at IS NULL AND expires_at > ${now}
        RETURNING user_id
      )
      INSERT INTO identities (identity, user_id, linked_at)
      SELECT ${identity}, user_id, ${now} FROM claimed
      ON CONFLICT (identity) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at
      RETURNING user_id`;
    return linked?.user_id;
  }
}
