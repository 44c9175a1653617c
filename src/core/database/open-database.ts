import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrations as allMigrations, type Migration } from './migrations/index.ts';

/** The SQLite handle every repository in the core shares. */
export type SqliteDatabase = Database.Database;

/**
 * Opens (creating if needed) the database in WAL mode and applies pending migrations. A busy timeout
 * lets several processes share one file: writers wait for each other instead of failing.
 */
export function openDatabase(file: string, migrations: readonly Migration[] = allMigrations): SqliteDatabase {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  // Sub-journals (a refused write's savepoint) and the scratch tables of RETURNING stay in memory: they are
  // small and short-lived, and a temporary file for them costs system calls on the request path.
  database.pragma('temp_store = MEMORY');
  database.pragma('foreign_keys = ON');
  applyMigrations(database, migrations);
  return database;
}

/** Applies migrations newer than the recorded version, each in its own transaction. */
export function applyMigrations(database: SqliteDatabase, migrations: readonly Migration[]): number[] {
  database.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const applied: number[] = [];
  // IMMEDIATE: two processes starting together must not both apply the same migration.
  const applyOne = database.transaction((migration: Migration) => {
    const done = database.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version);
    if (done) return;
    database.exec(migration.sql);
    database
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(migration.version, migration.name, new Date().toISOString());
    applied.push(migration.version);
  });
  for (const migration of [...migrations].sort((left, right) => left.version - right.version)) {
    applyOne.immediate(migration);
  }
  return applied;
}
