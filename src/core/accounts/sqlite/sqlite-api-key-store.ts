import { ExternalChangeWatch } from '../../database/external-change-watch.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import type { ApiKeyStore, ApiKeySummary, NewApiKey, StoredApiKey } from '../api-key-store.ts';

interface KeyRow {
  prefix: string;
  user_id: string;
  label: string | null;
  admin: number;
  created_at: string;
  revoked_at: string | null;
}

/**
 * `ApiKeyStore` on SQLite: prepared statements, synchronous under the promises. Other processes' changes
 * are seen through `data_version` (`ExternalChangeWatch`), which moves with any commit another connection
 * makes to the file.
 */
export class SqliteApiKeyStore implements ApiKeyStore {
  readonly #statements;
  readonly #externalChanges: ExternalChangeWatch;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#externalChanges = new ExternalChangeWatch(database, () => now().getTime());
    this.#statements = {
      insert: database.prepare<[string, string, string, string, string | null, string, number], void>(
        'INSERT INTO api_keys (id, prefix, key_hash, user_id, label, created_at, admin) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      byHash: database.prepare<
        [string],
        {
          id: string;
          prefix: string;
          admin: number;
          user_id: string;
          revoked_at: string | null;
          plan: string | null;
        }
      >(
        `SELECT api_keys.id, api_keys.prefix, api_keys.admin, api_keys.user_id, api_keys.revoked_at, users.plan
         FROM api_keys JOIN users ON users.id = api_keys.user_id WHERE api_keys.key_hash = ?`,
      ),
      // substr, not LIKE: SQLite's LIKE ignores case, and keys are case-sensitive.
      prefixesStartingWith: database.prepare<[number, string], { prefix: string }>(
        'SELECT prefix FROM api_keys WHERE substr(prefix, 1, ?) = ? ORDER BY prefix',
      ),
      revoke: database.prepare<[string, string], void>(
        'UPDATE api_keys SET revoked_at = ? WHERE prefix = ? AND revoked_at IS NULL',
      ),
      list: database.prepare<[], KeyRow>(
        'SELECT prefix, user_id, label, admin, created_at, revoked_at FROM api_keys ORDER BY created_at, id',
      ),
      count: database.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM api_keys'),
    };
  }

  async insert(key: NewApiKey): Promise<void> {
    this.#statements.insert.run(
      key.id,
      key.prefix,
      key.keyHash,
      key.userId,
      key.label,
      key.createdAt.toISOString(),
      key.admin ? 1 : 0,
    );
  }

  async byHash(keyHash: string): Promise<StoredApiKey | undefined> {
    const row = this.#statements.byHash.get(keyHash);
    return (
      row && {
        id: row.id,
        prefix: row.prefix,
        userId: row.user_id,
        admin: row.admin === 1,
        revoked: row.revoked_at !== null,
        plan: row.plan ?? undefined,
      }
    );
  }

  async prefixesStartingWith(start: string): Promise<string[]> {
    return this.#statements.prefixesStartingWith.all(start.length, start).map((row) => row.prefix);
  }

  async revoke(prefix: string, now: Date): Promise<void> {
    this.#statements.revoke.run(now.toISOString(), prefix);
  }

  async list(): Promise<ApiKeySummary[]> {
    return this.#statements.list.all().map((row) => ({
      prefix: row.prefix,
      userId: row.user_id,
      label: row.label,
      admin: row.admin === 1,
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
    }));
  }

  async count(): Promise<number> {
    return this.#statements.count.get()?.count ?? 0;
  }

  changedElsewhere(): boolean {
    return this.#externalChanges.changedSinceLastCheck();
  }
}
