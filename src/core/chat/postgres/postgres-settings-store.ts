import type { Sql } from 'postgres';
import type { SettingsStore } from '../settings-store.ts';

/**
 * `SettingsStore` on PostgreSQL. A change makes sure the identity's row exists (an empty document, which
 * reads as no settings), then reads it `FOR UPDATE`: a second change of the same person waits for the
 * first to commit and builds on what it wrote, even when neither row existed before.
 */
export class PostgresSettingsStore implements SettingsStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async read(identity: string): Promise<string | undefined> {
    const [row] = await this.#sql<{ settings: string }[]>`
      SELECT settings FROM personal_settings WHERE identity = ${identity}`;
    return row?.settings;
  }

  async change(identity: string, next: (stored: string | undefined) => string, at: Date): Promise<string> {
    return this.#sql.begin(async (sql) => {
      const [inserted] = await sql<{ settings: string }[]>`
        INSERT INTO personal_settings (identity, settings, updated_at) VALUES (${identity}, '{}', ${at})
        ON CONFLICT (identity) DO NOTHING
        RETURNING settings`;
      let stored: string | undefined;
      if (!inserted) {
        const [row] = await sql<{ settings: string }[]>`
          SELECT settings FROM personal_settings WHERE identity = ${identity} FOR UPDATE`;
        stored = row?.settings;
      }
      const settings = next(stored);
      // An upsert, so a reset that removed the row between the two statements above loses nothing.
      await sql`
        INSERT INTO personal_settings (identity, settings, updated_at) VALUES (${identity}, ${settings}, ${at})
        ON CONFLICT (identity) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`;
      return settings;
    });
  }

  async remove(identity: string): Promise<void> {
    await this.#sql`DELETE FROM personal_settings WHERE identity = ${identity}`;
  }
}
