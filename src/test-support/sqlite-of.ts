import type { SqliteDatabase } from '../core/database/open-database.ts';

/** The SQLite file under `services` (a test that inspects rows runs on the embedded engine). */
export function sqliteOf(services: { database: SqliteDatabase | undefined } | undefined): SqliteDatabase {
  if (!services?.database) throw new Error('these services are not on SQLite');
  return services.database;
}
