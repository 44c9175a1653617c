import type { SqliteDatabase } from '../database/open-database.ts';

/** How long a delivery id is remembered: far past any platform's retry window (Slack retries for minutes). */
export const processedEventMemoryMs = 24 * 60 * 60 * 1000;

/**
 * Once-only handling of chat deliveries. Platforms redeliver (Slack's `X-Slack-Retry-Num`, a gateway
 * reconnect) and people double-click buttons; claiming the delivery's id first means the second copy
 * does nothing, so nothing is generated or charged twice. Shared by every process on the database file.
 */
export class ProcessedEvents {
  readonly #statements;
  readonly #now: () => Date;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#now = now;
    this.#statements = {
      claim: database.prepare<[string, string], void>(
        'INSERT OR IGNORE INTO processed_events (event_key, created_at) VALUES (?, ?)',
      ),
      forgetBefore: database.prepare<[string], void>('DELETE FROM processed_events WHERE created_at < ?'),
    };
  }

  /** True the first time `key` (e.g. `discord:interaction:<id>`) is claimed, false for every repeat. */
  claim(key: string): boolean {
    return this.#statements.claim.run(key, this.#now().toISOString()).changes === 1;
  }

  /** Drops ids older than a day; returns how many. */
  forgetOld(): number {
    const cutoff = new Date(this.#now().getTime() - processedEventMemoryMs).toISOString();
    return this.#statements.forgetBefore.run(cutoff).changes;
  }
}
