import type { Sql } from 'postgres';
import type { ApiKeyStore, ApiKeySummary, NewApiKey, StoredApiKey } from '../api-key-store.ts';
import { AccountChangeWatch } from './account-change-watch.ts';

interface KeyRow {
  prefix: string;
  user_id: string;
  label: string | null;
  admin: boolean;
  created_at: Date;
  revoked_at: Date | null;
}

/**
 * `ApiKeyStore` on PostgreSQL. Other processes' revocations and plan changes are seen through the
 * `account_changes` counter (`AccountChangeWatch`).
 */
export class PostgresApiKeyStore implements ApiKeyStore {
  readonly #sql: Sql;
  readonly #changes: AccountChangeWatch;

  constructor(sql: Sql, now: () => Date = () => new Date()) {
    this.#sql = sql;
    this.#changes = new AccountChangeWatch(sql, now);
  }

  async insert(key: NewApiKey): Promise<void> {
    await this.#sql`
      INSERT INTO api_keys (id, prefix, key_hash, user_id, label, created_at, admin)
      VALUES (${key.id}, ${key.prefix}, ${key.keyHash}, ${key.userId}, ${key.label}, ${key.createdAt}, ${key.admin})`;
  }

  async byHash(keyHash: string): Promise<StoredApiKey | undefined> {
    const [row] = await this.#sql<
      { id: string; prefix: string; admin: boolean; user_id: string; revoked: boolean; plan: string | null }[]
    >`
      SELECT api_keys.id, api_keys.prefix, api_keys.admin, api_keys.user_id,
        api_keys.revoked_at IS NOT NULL AS revoked, users.plan
      FROM api_keys JOIN users ON users.id = api_keys.user_id WHERE api_keys.key_hash = ${keyHash}`;
    return (
      row && {
        id: row.id,
        prefix: row.prefix,
        userId: row.user_id,
        admin: row.admin,
        revoked: row.revoked,
        plan: row.plan ?? undefined,
      }
    );
  }

  async prefixesStartingWith(start: string): Promise<string[]> {
    // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
    const rows = await this.#sql<{ prefix: string }[]>`
      SELECT prefix FROM api_keys WHERE starts_with(prefix, ${start}) ORDER BY prefix COLLATE "C"`;
    return rows.map((row) => row.prefix);
  }

  async revoke(prefix: string, now: Date): Promise<void> {
    await this.#sql`UPDATE api_keys SET revoked_at = ${now} WHERE prefix = ${prefix} AND revoked_at IS NULL`;
  }

  async list(): Promise<ApiKeySummary[]> {
    const rows = await this.#sql<KeyRow[]>`
      SELECT prefix, user_id, label, admin, created_at, revoked_at FROM api_keys
      ORDER BY created_at, id COLLATE "C"`;
    return rows.map((row) => ({
      prefix: row.prefix,
      userId: row.user_id,
      label: row.label,
      admin: row.admin,
      createdAt: row.created_at.toISOString(),
      revokedAt: row.revoked_at?.toISOString() ?? null,
    }));
  }

  async count(): Promise<number> {
    const [row] = await this.#sql<{ count: number }[]>`SELECT count(*)::integer AS count FROM api_keys`;
    return row?.count ?? 0;
  }

  changedElsewhere(): boolean | Promise<boolean> {
    return this.#changes.changedSinceLastCheck();
  }
}
