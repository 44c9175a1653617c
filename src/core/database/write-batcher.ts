import { isStorageFailure, storageUnavailable } from '../errors/storage-unavailable.ts';
import type { SqliteDatabase } from './open-database.ts';

interface QueuedWrite {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Kept and tried again with later groups while the disk refuses it (see `runEventually`). */
  eventually: boolean;
}

/** Told how each group's commit went, so `/health` can say when writes are failing. */
export interface CommitListener {
  committed(): void;
  failed(error: unknown): void;
}

type WriteOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A write's own error, carried out of a transaction attempt so it is not mistaken for a failed commit. */
class WriteThrew {
  constructor(readonly error: unknown) {}
}

/**
 * Group commit for the request path. Writes queued in the same turn of the event loop run in one
 * IMMEDIATE transaction. One write that throws (a quota refusal) loses only itself: the others still
 * commit. A caller's promise settles only after the commit, so nothing is reported done before it is
 * durable. Under load this turns N commits into one, which is most of what a write costs; alone, a write
 * waits only until the end of the current turn.
 *
 * A write must touch nothing but the database: it may run twice (see `#commit`), and only its last run,
 * the committed one, counts.
 */
export class WriteBatcher {
  readonly #database: SqliteDatabase;
  readonly #savepoint;
  readonly #runTogether;
  readonly #runSeparately;
  readonly #listener: CommitListener | undefined;
  #queue: QueuedWrite[] = [];
  /** Writes that must land (a hold's release, a job's end) that a full disk refused; retried with every group. */
  #retained: QueuedWrite[] = [];
  #flushScheduled = false;

  constructor(database: SqliteDatabase, listener?: CommitListener) {
    this.#database = database;
    this.#listener = listener;
    // Prepared once: wrapping each write with database.transaction() would build a new wrapper per call.
    this.#savepoint = {
      open: database.prepare('SAVEPOINT batched_write'),
      release: database.prepare('RELEASE batched_write'),
      rollBack: database.prepare('ROLLBACK TO batched_write'),
    };
    this.#runTogether = database.transaction((writes: QueuedWrite[]): WriteOutcome[] =>
      writes.map((write) => {
        try {
          return { ok: true, value: write.work() };
        } catch (error) {
          // Leaving the transaction function by a throw rolls the whole attempt back.
          throw new WriteThrew(error);
        }
      }),
    );
    this.#runSeparately = database.transaction((writes: QueuedWrite[]): WriteOutcome[] =>
      writes.map((write) => this.#runInSavepoint(write.work)),
    );
  }

  /**
   * Runs `work` (synchronous database work) in the next group transaction and returns its result. When
   * the disk refuses the commit (full, read-only, failing), it rejects with 503 `storage_unavailable`.
   */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#enqueue({ work, resolve: resolve as (value: unknown) => void, reject, eventually: false });
    });
  }

  /**
   * For a write that must happen even when the disk is full now (releasing a quota hold, ending a job):
   * resolves `true` once committed, or `false` at once when its group could not commit (a full disk, a
   * lock held past the busy timeout), in which case the write is kept and run again at the head of every
   * later group (the job heartbeat makes one every 10 s) until it commits. An error of its own rejects.
   */
  runEventually(work: () => unknown): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#enqueue({
        work: () => {
          work();
          return true;
        },
        resolve: resolve as (value: unknown) => void,
        reject,
        eventually: true,
      });
    });
  }

  /** How many refused writes wait for the disk to take them. */
  get waitingForDisk(): number {
    return this.#retained.length;
  }

  /** Commits whatever is queued now, before the database closes. */
  flushNow(): void {
    if (this.#queue.length > 0 || this.#retained.length > 0) this.#flush();
  }

  #enqueue(write: QueuedWrite): void {
    this.#queue.push(write);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#queue.length === 0 && this.#retained.length === 0) return;
    // Retained writes go first: a hold released before a new one is taken gives its quota back in time.
    const writes = this.#retained.length > 0 ? [...this.#retained, ...this.#queue] : this.#queue;
    this.#retained = [];
    this.#queue = [];
    if (!this.#database.open) {
      const closed = new Error('the database is closed');
      for (const write of writes) write.reject(closed);
      return;
    }
    let outcomes: WriteOutcome[];
    try {
      outcomes = this.#commit(writes);
    } catch (error) {
      // The commit itself failed (disk full, database locked past busy_timeout): nothing was written.
      this.#listener?.failed(error);
      const storageFailed = isStorageFailure(error);
      for (const write of writes) {
        if (write.eventually) {
          this.#retained.push(write);
          write.resolve(false);
        } else write.reject(storageFailed ? storageUnavailable(error) : error);
      }
      return;
    }
    this.#listener?.committed();
    writes.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) write.resolve(outcome.value);
      else if (write.eventually && isStorageFailure(outcome?.error)) {
        this.#retained.push(write);
        write.resolve(false);
      } else
        write.reject(isStorageFailure(outcome?.error) ? storageUnavailable(outcome?.error) : outcome?.error);
    });
  }

  /**
   * Almost every group commits without a refusal, so it first runs with no savepoint at all: while one is
   * open, SQLite copies every page a write touches into a sub-journal first, which cost about a seventh of
   * a request (one savepoint around the whole group costs as much as one per write). When a write throws,
   * that attempt is rolled back whole and the group runs again, in a new transaction, with each write in a
   * savepoint of its own, so the failing write alone is undone. Between the two another process may take
   * the write lock; then the group waits for it like any other, up to the busy timeout.
   */
  #commit(writes: QueuedWrite[]): WriteOutcome[] {
    try {
      return this.#runTogether.immediate(writes);
    } catch (error) {
      if (!(error instanceof WriteThrew)) throw error;
      // A disk that refuses one write refuses the group: that is a failed commit, not one write's refusal.
      if (isStorageFailure(error.error)) throw error.error;
      // Alone in its group, the failing write was undone by the rollback already.
      if (writes.length === 1) return [{ ok: false, error: error.error }];
      return this.#runSeparately.immediate(writes);
    }
  }

  /** Runs one write so that a throw undoes that write alone. */
  #runInSavepoint(work: () => unknown): WriteOutcome {
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
