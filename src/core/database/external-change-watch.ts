import type { SqliteDatabase } from './open-database.ts';

/**
 * Tells whether another connection (the CLI, a bot process sharing the file) has committed since the last
 * look, through SQLite's `data_version`, which changes only for other connections' commits. In-memory
 * caches use it to stay exact without re-reading on every request.
 */
export class ExternalChangeWatch {
  readonly #dataVersion;
  #lastSeen: unknown;

  constructor(database: SqliteDatabase) {
    this.#dataVersion = database.prepare('PRAGMA data_version').pluck();
    this.#lastSeen = this.#dataVersion.get();
  }

  /** True once after each commit made through another connection. */
  changedSinceLastCheck(): boolean {
    const current = this.#dataVersion.get();
    if (current === this.#lastSeen) return false;
    this.#lastSeen = current;
    return true;
  }
}
