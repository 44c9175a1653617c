import Database from 'better-sqlite3';
import type { SqliteDatabase } from './open-database.ts';
import type { WriteBatcher } from './write-batcher.ts';

/** Checks that the database can be read from its file and written through the request path's group commit. */
export type DatabaseProbe = () => Promise<boolean>;

/**
 * A real read and a real write, cheap enough for every `/health`. The read opens the file afresh: the
 * serving connection answers from its page cache and would go on saying "ok" about a file that has since
 * been damaged or replaced. The write rewrites one row, so a full disk or a read-only mount shows here.
 */
export function createDatabaseProbe(database: SqliteDatabase, writes: WriteBatcher): DatabaseProbe {
  const file = database.name;
  const touch = database.prepare<[string], void>(
    'INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at',
  );
  return async () => {
    if (!database.open) return false;
    try {
      if (file !== ':memory:') {
        const reader = new Database(file, { readonly: true, fileMustExist: true });
        try {
          reader.prepare('SELECT count(*) FROM sqlite_schema').get();
        } finally {
          reader.close();
        }
      }
      await writes.run(() => touch.run(new Date().toISOString()));
      return true;
    } catch {
      return false;
    }
  };
}
