import { isoTimestamp } from '../../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import type { ProcessedEventStore } from '../processed-event-store.ts';

/** `ProcessedEventStore` on SQLite: `INSERT OR IGNORE` on the key, which every process sharing the file sees. */
export class SqliteProcessedEventStore implements ProcessedEventStore {
  readonly #statements;

  constructor(database: SqliteDatabase) {
    this.#statements = {
      claim: database.prepare<[string, string], void>(
        'INSERT OR IGNORE INTO processed_events (event_key, created_at) VALUES (?, ?)',
      ),
      forgetBefore: database.prepare<[string], void>('DELETE FROM processed_events WHERE created_at < ?'),
    };
  }

  async claim(key: string, at: Date): Promise<boolean> {
    return this.#statements.claim.run(key, isoTimestamp(at)).changes === 1;
  }

  async forgetBefore(cutoff: Date): Promise<number> {
    return this.#statements.forgetBefore.run(isoTimestamp(cutoff)).changes;
  }
}
