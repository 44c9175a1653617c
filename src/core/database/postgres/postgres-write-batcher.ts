import type { Sql } from 'postgres';
import type { CommitListener } from '../write-batcher.ts';
import type { Queryable } from './queryable.ts';

/**
 * A transaction-scoped advisory lock a write needs before its statements run:
 * `pg_advisory_xact_lock(space, hashtext(key))`, held until the group commits.
 */
export interface AdvisoryLock {
  space: number;
  key: string;
}

interface QueuedWrite {
  orderKey: string;
  lock: AdvisoryLock | undefined;
  work: (transaction: Queryable) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type WriteOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A write's own error, carried out of a transaction attempt so it is not mistaken for a failed commit. */
class WriteThrew {
  constructor(readonly error: unknown) {}
}

/** Writes beyond this wait for the next group: one transaction must not hold its locks for too long. */
const maxGroupSize = 64;

/**
 * Tries of a group that PostgreSQL chose as a deadlock's victim. Groups take the users' counters in key
 * order (`run`), but a counter many users share (a scope's, the budget's) is taken after a user's, so two
 * groups can still wait on each other; the server breaks the cycle by failing one, which runs again whole.
 */
const maxAttempts = 5;

/** Code-unit order, the same in every process (no locale). */
function compare(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** A deadlock's victim (40P01) or a serialization failure (40001): nothing was written, run it again. */
function isTransient(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === '40P01' || code === '40001';
}

/**
 * Group commit on PostgreSQL, as `WriteBatcher` is on SQLite: writes queued in the same turn of the event
 * loop run in one transaction, so N requests cost one commit (one WAL flush) instead of N. Groups do not
 * wait for each other: each takes its own connection from the pool. A write that throws (a quota refusal)
 * loses only itself: the group first runs with no savepoint at all (each costs two round trips), its writes
 * all at once, and only when a write throws runs again, one write after another, each in a savepoint of its
 * own. A caller's promise settles
 * after the commit. A write must touch nothing but its transaction: it may run twice.
 */
export class PostgresWriteBatcher {
  readonly #sql: Sql;
  readonly #listener: CommitListener | undefined;
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;

  constructor(sql: Sql, listener?: CommitListener) {
    this.#sql = sql;
    this.#listener = listener;
  }

  /**
   * Runs `work` in the next group's transaction and answers its result once that committed. `orderKey` is
   * what the write locks (the user whose counters it moves): a group runs its writes in key order, so every
   * group, in every process, takes those locks in one order and none waits on another in a cycle. `lock`
   * is taken before any of the group's statements run, with the other writes' locks in one statement.
   */
  run<T>(work: (transaction: Queryable) => Promise<T>, orderKey = '', lock?: AdvisoryLock): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ orderKey, lock, work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    while (this.#queue.length > 0) {
      // Stable: a caller's writes with one key keep their order.
      const group = this.#queue.splice(0, maxGroupSize);
      void this.#commit(group.sort((left, right) => compare(left.orderKey, right.orderKey)));
    }
  }

  async #commit(writes: QueuedWrite[]): Promise<void> {
    let outcomes: WriteOutcome[] | undefined;
    for (let attempt = 1; !outcomes; attempt++) {
      try {
        outcomes = await this.#attempt(writes);
      } catch (error) {
        if (isTransient(error) && attempt < maxAttempts) continue;
        // The transaction itself failed (the connection, the server): nothing was written.
        this.#listener?.failed(error);
        for (const write of writes) write.reject(error);
        return;
      }
    }
    this.#listener?.committed();
    writes.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) write.resolve(outcome.value);
      else write.reject(outcome?.error);
    });
  }

  async #attempt(writes: QueuedWrite[]): Promise<WriteOutcome[]> {
    try {
      return await this.#runTogether(writes);
    } catch (error) {
      if (!(error instanceof WriteThrew)) throw error;
      // A deadlock fails the statement that met it, not the write: the whole group runs again.
      if (isTransient(error.error)) throw error.error;
      // Alone in its group, the failing write was undone by the rollback already.
      if (writes.length === 1) return [{ ok: false, error: error.error }];
      return this.#sql.begin(async (transaction) => {
        await lockQuery(transaction, writes);
        const outcomes: WriteOutcome[] = [];
        for (const write of writes) {
          try {
            outcomes.push({ ok: true, value: await transaction.savepoint((inner) => write.work(inner)) });
          } catch (writeError) {
            if (isTransient(writeError)) throw writeError;
            outcomes.push({ ok: false, error: writeError });
          }
        }
        return outcomes;
      }) as Promise<WriteOutcome[]>;
    }
  }

  /**
   * The group's first attempt: BEGIN, every write's statements and COMMIT on one reserved connection. BEGIN
   * goes out with the writes' first statements, where postgres.js's `begin()` waits a round trip for it: a
   * request makes two groups, so that is two round trips fewer per request. All the writes at once, so
   * the driver pipelines their statements and a group of 64 costs each write's own chain of round trips,
   * not the sum of all 64 chains. Throws `WriteThrew` with the first write's error after rolling back.
   */
  async #runTogether(writes: QueuedWrite[]): Promise<WriteOutcome[]> {
    const connection = await this.#sql.reserve();
    try {
      const begun = connection.unsafe('BEGIN').execute();
      const locked = lockQuery(connection, writes);
      const [began, lockedAll, ...settled] = await Promise.allSettled([
        begun,
        locked,
        ...writes.map((write) => startWork(write, connection)),
      ]);
      // A failed BEGIN fails the transaction itself (every statement after it failed with it).
      if (began?.status === 'rejected') throw began.reason;
      const refused = settled.find((outcome) => outcome.status === 'rejected');
      if (lockedAll?.status === 'rejected' || refused) {
        await connection.unsafe('ROLLBACK');
        // A lock not granted (a deadlock's victim) is the group's failure, not one write's.
        if (lockedAll?.status === 'rejected') throw lockedAll.reason;
        throw new WriteThrew(refused?.reason);
      }
      const committed = await connection.unsafe('COMMIT');
      // A statement that failed inside a write that caught its error aborted the transaction: PostgreSQL
      // then answers COMMIT by rolling back, without an error of its own.
      if (committed.command !== 'COMMIT') throw new Error('the group transaction was rolled back');
      return settled.map((outcome) => ({
        ok: true,
        value: (outcome as PromiseFulfilledResult<unknown>).value,
      }));
    } finally {
      connection.release();
    }
  }
}

/**
 * The write's promise, also when it throws before making one: past BEGIN nothing may leave `#runTogether`
 * without its COMMIT or ROLLBACK, or the connection would go back to the pool inside the transaction.
 */
function startWork(write: QueuedWrite, transaction: Queryable): Promise<unknown> {
  try {
    return write.work(transaction);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * One statement taking every lock the group's writes need, in key order (the writes' order), each once; a
 * resolved promise when none does. Sent before the writes' own statements, so each of them runs with its
 * lock held and sees what the lock's previous holder committed.
 */
function lockQuery(transaction: Queryable, writes: readonly QueuedWrite[]): Promise<unknown> {
  const locks = new Map<string, AdvisoryLock>();
  for (const { lock } of writes) if (lock) locks.set(`${lock.space}:${lock.key}`, lock);
  return locks.size === 0 ? Promise.resolve() : takeAdvisoryLocks(transaction, [...locks.values()]);
}

/**
 * Takes `locks` in the order given, until the transaction ends, in one statement: the one text for these
 * locks, so a write's lock taken by its group and the same lock taken alone are one lock.
 */
export function takeAdvisoryLocks(transaction: Queryable, locks: readonly AdvisoryLock[]): Promise<unknown> {
  return transaction`
    SELECT pg_advisory_xact_lock(lock.space, hashtext(lock.key))
    FROM unnest(${locks.map((lock) => lock.space)}::int[], ${locks.map((lock) => lock.key)}::text[])
      WITH ORDINALITY AS lock (space, key, position)
    ORDER BY lock.position`.execute();
}
