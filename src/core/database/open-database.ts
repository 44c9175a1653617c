import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseUnusableError } from './database-unusable-error.ts';
import { migrations as allMigrations, type Migration } from './migrations/index.ts';

/** The SQLite handle every repository in the core shares. */
export type SqliteDatabase = Database.Database;

/**
 * Files up to this size get `PRAGMA quick_check` at every start (about a second per 256 MB on a laptop);
 * a larger one is checked only when SQLite first reports it damaged (see `sqlite/sqlite-damage-watch.ts`).
 */
const quickCheckUpToBytes = 256 * 1024 * 1024;

/**
 * Opens (creating if needed) the database in WAL mode and applies pending migrations. A busy timeout
 * lets several processes share one file: writers wait for each other instead of failing. A file that is
 * damaged, not a database, or not writable throws `DatabaseUnusableError`, whose message says what to do.
 */
export function openDatabase(file: string, migrations: readonly Migration[] = allMigrations): SqliteDatabase {
  let database: SqliteDatabase | undefined;
  try {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    database = new Database(file);
    configure(database);
    if (file !== ':memory:' && fs.statSync(file).size <= quickCheckUpToBytes) assertIntact(database, file);
    // Migrations take the write lock even when none is pending: a file that cannot be written fails here.
    applyMigrations(database, migrations);
    return database;
  } catch (error) {
    database?.close();
    throw unusable(file, error);
  }
}

function configure(database: SqliteDatabase): void {
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  // Sub-journals (a refused write's savepoint) and the scratch tables of RETURNING stay in memory: they are
  // small and short-lived, and a temporary file for them costs system calls on the request path.
  database.pragma('temp_store = MEMORY');
  database.pragma('foreign_keys = ON');
}

function assertIntact(database: SqliteDatabase, file: string): void {
  const problems = (database.pragma('quick_check') as Array<{ quick_check: string }>)
    .map((row) => row.quick_check)
    .filter((line) => line !== 'ok');
  if (problems.length > 0) throw damaged(file, problems.slice(0, 3).join('; '));
}

function damaged(file: string, detail: string): DatabaseUnusableError {
  return new DatabaseUnusableError(file, damagedDatabaseAdvice(file, detail));
}

/**
 * What the operator reads about a damaged file, at start (the refusal) and while serving (the error log
 * line once a check finds it damaged): the file, what the check said, and how to recover.
 */
export function damagedDatabaseAdvice(file: string, detail: string): string {
  return (
    `The database ${file} is damaged (${detail}). Stop every imagine process using it, then restore it from a ` +
    `backup, or salvage what is readable: sqlite3 '${file}' .recover | sqlite3 recovered.sqlite, and move ` +
    'recovered.sqlite into its place.'
  );
}

/** The operator's version of what SQLite or the file system said; anything else is rethrown as it is. */
function unusable(file: string, error: unknown): unknown {
  if (DatabaseUnusableError.isInstance(error)) return error;
  const code = String((error as { code?: unknown } | undefined)?.code ?? '');
  const reason = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB') {
    return new DatabaseUnusableError(
      file,
      `${file} is not an SQLite database (${reason}). Move it out of DATA_DIR (or set DATA_DIR to another ` +
        'folder) and start again: imagine creates a new database there.',
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_CORRUPT')) return damaged(file, reason);
  if (/^(SQLITE_(READONLY|CANTOPEN|PERM|IOERR)|EROFS|EACCES|EPERM)/.test(code)) {
    return new DatabaseUnusableError(
      file,
      `The database ${file} cannot be opened for writing (${reason}). DATA_DIR (${path.dirname(file)}) must be ` +
        'a folder this user can write, on a disk that is not mounted read-only; fix its permissions or mount, ' +
        'or set DATA_DIR to a writable folder.',
      { cause: error },
    );
  }
  if (/^(SQLITE_FULL|ENOSPC|EDQUOT)/.test(code)) {
    return new DatabaseUnusableError(
      file,
      `There is no space left to open the database ${file} (${reason}). Free some space on the disk under ` +
        `DATA_DIR (${path.dirname(file)}) and start again.`,
      { cause: error },
    );
  }
  return error;
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
