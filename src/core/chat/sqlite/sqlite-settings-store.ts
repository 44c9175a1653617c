import { isoTimestamp } from '../../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import type { SettingsStore } from '../settings-store.ts';

/** `SettingsStore` on SQLite: a change is one IMMEDIATE transaction, which SQLite serialises across processes. */
export class SqliteSettingsStore implements SettingsStore {
  readonly #statements;
  readonly #change;

  constructor(database: SqliteDatabase) {
    this.#statements = {
      get: database.prepare<[string], { settings: string }>(
        'SELECT settings FROM personal_settings WHERE identity = ?',
      ),
      put: database.prepare<[string, string, string], void>(
        `INSERT INTO personal_settings (identity, settings, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (identity) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
      ),
      remove: database.prepare<[string], void>('DELETE FROM personal_settings WHERE identity = ?'),
    };
    this.#change = database.transaction(
      (identity: string, next: (stored: string | undefined) => string, at: Date): string => {
        const settings = next(this.#statements.get.get(identity)?.settings);
        this.#statements.put.run(identity, settings, isoTimestamp(at));
        return settings;
      },
    );
  }

  async read(identity: string): Promise<string | undefined> {
    return this.#statements.get.get(identity)?.settings;
  }

  async change(identity: string, next: (stored: string | undefined) => string, at: Date): Promise<string> {
    return this.#change.immediate(identity, next, at);
  }

  async remove(identity: string): Promise<void> {
    this.#statements.remove.run(identity);
  }
}
