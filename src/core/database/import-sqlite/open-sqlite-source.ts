import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from '../migrations/index.ts';
import { openDatabase, type SqliteDatabase } from '../open-database.ts';
import { SqliteImportError } from './sqlite-import-error.ts';

/** The SQLite database an import reads, at today's schema. */
export interface SqliteSource {
  database: SqliteDatabase;
  /** The file's own schema version (the last SQLite migration applied to it). */
  fileVersion: number;
  /** Where a migrated copy of an older file was made; undefined when the file itself is read. */
  migratedCopy: string | undefined;
  close(): void;
}

/** SQLite's schema version this code writes and reads. */
export const currentSqliteVersion = Math.max(...migrations.map((migration) => migration.version));

/**
 * Opens `file` read-only: the import never changes it. A file at an older schema version (made by an older
 * imagine) is not migrated in place: a copy is made in the temporary folder (SQLite's backup, a consistent
 * snapshot even of a file in use), migrated as the service's start would, read, and deleted on `close`. So
 * the original stays usable by the imagine that made it, and a failed import leaves nothing to undo.
 * `onMigratingCopy` is told before the copy is made, which takes as long as reading the file.
 */
export async function openSqliteSource(
  file: string,
  onMigratingCopy: (copy: { file: string; from: number; to: number }) => void = () => {},
): Promise<SqliteSource> {
  const original = openReadOnly(file);
  let fileVersion: number;
  try {
    fileVersion = schemaVersion(original, file);
  } catch (error) {
    original.close();
    throw error;
  }
  if (fileVersion === currentSqliteVersion) {
    return { database: original, fileVersion, migratedCopy: undefined, close: () => original.close() };
  }
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-import-'));
  const copy = path.join(folder, 'imagine.sqlite');
  const removeCopy = () => fs.rmSync(folder, { recursive: true, force: true });
  try {
    onMigratingCopy({ file: copy, from: fileVersion, to: currentSqliteVersion });
    await original.backup(copy);
  } catch (error) {
    removeCopy();
    throw error;
  } finally {
    original.close();
  }
  let migrated: SqliteDatabase;
  try {
    migrated = openDatabase(copy);
  } catch (error) {
    removeCopy();
    throw error;
  }
  return {
    database: migrated,
    fileVersion,
    migratedCopy: copy,
    close: () => {
      migrated.close();
      removeCopy();
    },
  };
}

/** The file's SQLite schema version, refusing a file that is not imagine's or is newer than this code. */
export function sqliteFileVersion(file: string): number {
  const database = openReadOnly(file);
  try {
    return schemaVersion(database, file);
  } finally {
    database.close();
  }
}

function openReadOnly(file: string): SqliteDatabase {
  if (!fs.existsSync(file)) {
    throw new SqliteImportError(
      'unreadable_source',
      `There is no file at ${file}. Give the path of imagine's SQLite database (imagine.sqlite under DATA_DIR).`,
    );
  }
  try {
    return new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new SqliteImportError('unreadable_source', `${file} cannot be opened: ${reason(error)}.`, {
      cause: error,
    });
  }
}

function schemaVersion(database: SqliteDatabase, file: string): number {
  let version: number | null | undefined;
  try {
    const hasMigrations = database
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    if (!hasMigrations) {
      throw new SqliteImportError(
        'unreadable_source',
        `${file} is an SQLite database but not imagine's (it has no schema_migrations table).`,
      );
    }
    version = database
      .prepare<[], { version: number | null }>('SELECT max(version) AS version FROM schema_migrations')
      .get()?.version;
  } catch (error) {
    if (SqliteImportError.isInstance(error)) throw error;
    throw new SqliteImportError('unreadable_source', `${file} cannot be read as SQLite: ${reason(error)}.`, {
      cause: error,
    });
  }
  if (!version) {
    throw new SqliteImportError(
      'unreadable_source',
      `${file} has no migration applied: there is nothing to copy.`,
    );
  }
  if (version > currentSqliteVersion) {
    throw new SqliteImportError(
      'unreadable_source',
      `${file} was made by a newer imagine (SQLite schema version ${version}; this one knows up to ` +
        `${currentSqliteVersion}). Run the import with the imagine version that wrote the file.`,
    );
  }
  return version;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
