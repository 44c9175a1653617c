import type { SqliteDatabase } from './open-database.ts';

interface QueuedWrite {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the request path. Writes queued in the same turn of the event loop run in one
 * IMMEDIATE transaction, each inside its own savepoint: one write that throws (a quota refusal) rolls back
 * only itself, and the others still commit. A caller's promise settles only after the commit, so nothing
 * is reported done before it is durable. Under load this turns N commits into one, which is most of what
 * a write costs; alone, a write waits only until the end of the current turn.
 */
export class WriteBatcher {
  readonly #database: SqliteDatabase;
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;

  constructor(database: SqliteDatabase) {
    this.#database = database;
  }

  /** Runs `work` (synchronous database work) in the next group transaction and returns its result. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const writes = this.#queue;
    this.#queue = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.#database
        .transaction(() => {
          for (const write of writes) {
            try {
              // A nested better-sqlite3 transaction is a savepoint: a throw undoes this write alone.
              outcomes.push({ ok: true, value: this.#database.transaction(write.work)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      // The commit itself failed (disk full, database locked past busy_timeout): nothing was written.
      for (const write of writes) write.reject(error);
      return;
    }
    writes.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) write.resolve(outcome.value);
      else write.reject(outcome?.error);
    });
  }
}
