import { isoTimestamp } from '../../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import type { ConsoleSessionStore, StoredConsoleSession } from '../console-session-store.ts';

interface SessionRow {
  key_id: string;
  prefix: string;
  user_id: string;
  expires_at: string;
}

/** `ConsoleSessionStore` on SQLite (instants as ISO text, which sorts as time). */
export class SqliteConsoleSessionStore implements ConsoleSessionStore {
  readonly #statements;
  readonly #create;

  constructor(database: SqliteDatabase) {
    this.#statements = {
      insert: database.prepare<[string, string, string, string], void>(
        'INSERT INTO console_sessions (id_hash, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
      ),
      lookup: database.prepare<[string, string], SessionRow>(
        `SELECT console_sessions.key_id, api_keys.prefix, api_keys.user_id, console_sessions.expires_at
         FROM console_sessions JOIN api_keys ON api_keys.id = console_sessions.key_id
         WHERE console_sessions.id_hash = ? AND console_sessions.expires_at > ?
           AND api_keys.revoked_at IS NULL AND api_keys.admin = 1`,
      ),
      remove: database.prepare<[string], void>('DELETE FROM console_sessions WHERE id_hash = ?'),
      removeExpired: database.prepare<[string], void>('DELETE FROM console_sessions WHERE expires_at <= ?'),
    };
    this.#create = database.transaction(
      (idHash: string, keyId: string, createdAt: string, expiresAt: string) => {
        this.#statements.removeExpired.run(createdAt);
        this.#statements.insert.run(idHash, keyId, createdAt, expiresAt);
      },
    );
  }

  async create(session: { idHash: string; keyId: string; createdAt: Date; expiresAt: Date }): Promise<void> {
    this.#create.immediate(
      session.idHash,
      session.keyId,
      isoTimestamp(session.createdAt),
      isoTimestamp(session.expiresAt),
    );
  }

  async live(idHash: string, now: Date): Promise<StoredConsoleSession | undefined> {
    const row = this.#statements.lookup.get(idHash, isoTimestamp(now));
    return row
      ? { keyId: row.key_id, keyPrefix: row.prefix, userId: row.user_id, expiresAt: new Date(row.expires_at) }
      : undefined;
  }

  async remove(idHash: string): Promise<void> {
    this.#statements.remove.run(idHash);
  }
}
