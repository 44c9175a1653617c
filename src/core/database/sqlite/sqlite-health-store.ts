import Database from 'better-sqlite3';
import type { HealthStore } from '../database-probe.ts';
import type { SqliteDatabase } from '../open-database.ts';
import type { WriteBatcher } from '../write-batcher.ts';
import type { SqliteDamageWatch } from './sqlite-damage-watch.ts';

/**
 * `HealthStore` on SQLite. The read opens the file afresh: the serving connection answers from its page
 * cache and would go on saying "ok" about a file that has since been damaged or replaced. The write
 * rewrites one row through the request path's group commit, so a full disk or a read-only mount shows here.
 * A damage code from the fresh read goes to the damage watch like any statement's, and its verdict stays.
 */
export class SqliteHealthStore implements HealthStore {
  readonly #database: SqliteDatabase;
  readonly #writes: WriteBatcher;
  readonly #damage: SqliteDamageWatch | undefined;
  readonly #touch;

  constructor(database: SqliteDatabase, writes: WriteBatcher, damage?: SqliteDamageWatch) {
    this.#database = database;
    this.#writes = writes;
    this.#damage = damage;
    this.#touch = database.prepare<[string], void>(
      'INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at',
    );
  }

  async probe(): Promise<boolean> {
    const database = this.#database;
    if (!database.open) return false;
    try {
      if (database.name !== ':memory:') {
        const reader = new Database(database.name, { readonly: true, fileMustExist: true });
        try {
          reader.prepare('SELECT count(*) FROM sqlite_schema').get();
        } finally {
          reader.close();
        }
      }
      await this.#writes.run(() => this.#touch.run(new Date().toISOString()));
      return true;
    } catch (error) {
      this.#damage?.noticed(error);
      return false;
    }
  }

  damaged(): boolean {
    return this.#damage?.damaged ?? false;
  }
}
