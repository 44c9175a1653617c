import type { SqliteDatabase } from './open-database.ts';

/** How stale an in-memory cache may be with respect to other processes' writes. */
export const externalChangeLatencyMs = 250;

/**
 * Tells whether another connection (the CLI, a bot process sharing the file) has committed since the last
 * look, through SQLite's `data_version`, which changes only for other connections' commits. Reading it
 * costs about as much as the read it would spare, so it is consulted at most every 250 ms: a key revoked
 * from the CLI stops working within a quarter of a second.
 */
export class ExternalChangeWatch {
  readonly #dataVersion;
  readonly #clock: () => number;
  #lastSeen: unknown;
  #nextCheckAt = 0;

  constructor(database: SqliteDatabase, clock: () => number = () => performance.now()) {
    this.#dataVersion = database.prepare('PRAGMA data_version').pluck();
    this.#clock = clock;
    this.#lastSeen = this.#dataVersion.get();
  }

  /** True once after commits made through another connection (noticed within 250 ms). */
  changedSinceLastCheck(): boolean {
    const now = this.#clock();
    if (now < this.#nextCheckAt) return false;
    this.#nextCheckAt = now + externalChangeLatencyMs;
    const current = this.#dataVersion.get();
    if (current === this.#lastSeen) return false;
    this.#lastSeen = current;
    return true;
  }
}
