import type { Sql } from 'postgres';
import type { Migration } from '../migrations/index.ts';
import { postgresMigrations } from './migrations/index.ts';

// Any constant both sides agree on: every imagine process migrating this database takes the same lock.
const migrationLockKey = 0x696d6167; // "imag"

/**
 * Applies migrations newer than the recorded ones, all in one transaction under a transaction-scoped
 * advisory lock: several processes starting together queue on the lock, and each one after the first finds
 * the migrations recorded and applies nothing. DDL is transactional on PostgreSQL, so a migration that
 * fails leaves nothing behind. Returns the versions this call applied.
 */
export async function applyPostgresMigrations(
  sql: Sql,
  migrations: readonly Migration[] = postgresMigrations,
): Promise<number[]> {
  return sql.begin(async (transaction) => {
    await transaction`SELECT pg_advisory_xact_lock(${migrationLockKey})`;
    await transaction`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
      )`;
    const done = new Set(
      (await transaction<{ version: number }[]>`SELECT version FROM schema_migrations`).map(
        (row) => row.version,
      ),
    );
    const applied: number[] = [];
    for (const migration of [...migrations].sort((left, right) => left.version - right.version)) {
      if (done.has(migration.version)) continue;
      await transaction.unsafe(migration.sql);
      await transaction`INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, ${migration.name})`;
      applied.push(migration.version);
    }
    return applied;
  });
}
