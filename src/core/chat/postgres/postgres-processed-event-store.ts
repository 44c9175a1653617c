import type { Sql } from 'postgres';
import type { ProcessedEventStore } from '../processed-event-store.ts';

/**
 * `ProcessedEventStore` on PostgreSQL. A second insert of a key waits for the first one's transaction and
 * then does nothing, so `RETURNING` gives a row to exactly one claimant.
 */
export class PostgresProcessedEventStore implements ProcessedEventStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async claim(key: string, at: Date): Promise<boolean> {
    const claimed = await this.#sql`
      INSERT INTO processed_events (event_key, created_at) VALUES (${key}, ${at})
      ON CONFLICT (event_key) DO NOTHING
      RETURNING event_key`;
    return claimed.length === 1;
  }

  async forgetBefore(cutoff: Date): Promise<number> {
    const removed = await this.#sql`DELETE FROM processed_events WHERE created_at < ${cutoff}`;
    return removed.count;
  }
}
