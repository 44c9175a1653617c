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
  readonly #savepoint;
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;

  constructor(database: SqliteDatabase) {
    this.#database = database;
    // Prepared once: wrapping each write with database.transaction() would build a new wrapper per call.
    this.#savepoint = {
      open: database.prepare('SAVEPOINT batched_write'),
      release: database.prepare('RELEASE batched_write'),
      rollBack: database.prepare('ROLLBACK TO batched_write'),
    };
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

  /** Commits whatever is queued now, before the database closes. */
  flushNow(): void {
    if (this.#queue.length > 0) this.#flush();
  }

  #flush(): void {
    this.#flushScheduled = false;
    const writes = this.#queue;
    this.#queue = [];
    if (writes.length === 0) return;
    if (!this.#database.open) {
      const closed = new Error('the database is closed');
      for (const write of writes) write.reject(closed);
      return;
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.#database
        .transaction(() => {
          for (const write of writes) outcomes.push(this.#runInSavepoint(write.work));
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

  /** Runs one write so that a throw undoes that write alone. */
  #runInSavepoint(work: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
    this.#savepoint.open.run();
    try {
      const value = work();
      this.#savepoint.release.run();
      return { ok: true, value };
    } catch (error) {
      this.#savepoint.rollBack.run();
      this.#savepoint.release.run();
      return { ok: false, error };
    }
  }
}
