import type { Sql } from 'postgres';
import { externalChangeLatencyMs } from '../../database/external-change-watch.ts';

/**
 * Other processes' account changes on PostgreSQL, through the `account_changes` counter (migration 3: key
 * revocations and removals, plan changes, image grants), read at most every 250 ms: PostgreSQL's answer to
 * SQLite's `data_version`. Each cache keeps its own watch, so each hears of a change once.
 */
export class AccountChangeWatch {
  readonly #sql: Sql;
  readonly #now: () => Date;
  #lastSeenVersion: string | undefined;
  #nextCheckAt = 0;

  constructor(sql: Sql, now: () => Date = () => new Date()) {
    this.#sql = sql;
    this.#now = now;
  }

  /** True once after the counter moved; false without a look while the last look is under 250 ms old. */
  changedSinceLastCheck(): boolean | Promise<boolean> {
    const now = this.#now().getTime();
    // Requests that come while a look is under way use the cache as it is: at most one look in flight.
    if (now < this.#nextCheckAt) return false;
    this.#nextCheckAt = now + externalChangeLatencyMs;
    return this.#versionMoved();
  }

  async #versionMoved(): Promise<boolean> {
    const [row] = await this.#sql<{ version: string }[]>`
      SELECT version::text AS version FROM account_changes WHERE id = 1`;
    const version = row?.version ?? '0';
    if (version === this.#lastSeenVersion) return false;
    this.#lastSeenVersion = version;
    return true;
  }
}
