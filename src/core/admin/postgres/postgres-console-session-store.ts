import type { Sql } from 'postgres';
import type { ConsoleSessionStore, StoredConsoleSession } from '../console-session-store.ts';

/** `ConsoleSessionStore` on PostgreSQL. */
export class PostgresConsoleSessionStore implements ConsoleSessionStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async create(session: { idHash: string; keyId: string; createdAt: Date; expiresAt: Date }): Promise<void> {
    // One statement: the sweep of expired sessions rides along with the sign-in that triggers it.
    await this.#sql`
      WITH swept AS (DELETE FROM console_sessions WHERE expires_at <= ${session.createdAt})
      INSERT INTO console_sessions (id_hash, key_id, created_at, expires_at)
      VALUES (${session.idHash}, ${session.keyId}, ${session.createdAt}, ${session.expiresAt})`;
  }

  async live(idHash: string, now: Date): Promise<StoredConsoleSession | undefined> {
    const [row] = await this.#sql<{ key_id: string; prefix: string; user_id: string; expires_at: Date }[]>`
      SELECT console_sessions.key_id, api_keys.prefix, api_keys.user_id, console_sessions.expires_at
      FROM console_sessions JOIN api_keys ON api_keys.id = console_sessions.key_id
      WHERE console_sessions.id_hash = ${idHash} AND console_sessions.expires_at > ${now}
        AND api_keys.revoked_at IS NULL AND api_keys.admin`;
    return row
      ? { keyId: row.key_id, keyPrefix: row.prefix, userId: row.user_id, expiresAt: row.expires_at }
      : undefined;
  }

  async remove(idHash: string): Promise<void> {
    await this.#sql`DELETE FROM console_sessions WHERE id_hash = ${idHash}`;
  }
}
