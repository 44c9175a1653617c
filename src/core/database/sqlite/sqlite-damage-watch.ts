import type { Logger } from 'pino';
import { damagedDatabaseAdvice } from '../open-database.ts';
import { type QuickCheckOutcome, type QuickCheckRun, startQuickCheck } from './sqlite-quick-check.ts';

/** Whether `error` is SQLite saying the file is damaged (better-sqlite3 puts the extended code on `code`). */
export function reportsDamage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code);
}

/** How long after a check that found no damage the next may start. */
export const recheckAfterMs = 60_000;

/**
 * Turns SQLite's word that a page is damaged into a verdict on the file. The first damage report starts
 * one `PRAGMA quick_check` (in a worker: on a large file it takes seconds) and reports that arrive while
 * it runs wait for it. When it finds damage the file is `damaged` until the process restarts: a write
 * that lands elsewhere in the file does not repair it, so `/health` keeps saying so, and one error line
 * tells the operator what to do. When it finds none (or cannot run), a report a minute or more after it
 * checks again: a false alarm repeated by every request must not keep a check of a large file running
 * back to back.
 */
export class SqliteDamageWatch {
  readonly #file: string;
  readonly #logger: Logger;
  readonly #startCheck: (file: string) => QuickCheckRun;
  #damaged = false;
  #closed = false;
  #running: { run: QuickCheckRun; settled: Promise<void> } | undefined;
  readonly #clock: () => number;
  /** When the last check without a verdict of damage ended; none sooner than `recheckAfterMs` after. */
  #nextCheckAt = Number.NEGATIVE_INFINITY;

  constructor(dependencies: {
    file: string;
    logger: Logger;
    /** How a check runs; a test may stand in for the worker. */
    startCheck?: (file: string) => QuickCheckRun;
    /** Milliseconds, for the cool-down between checks (a test's clock). */
    clock?: () => number;
  }) {
    this.#file = dependencies.file;
    this.#logger = dependencies.logger;
    this.#startCheck = dependencies.startCheck ?? startQuickCheck;
    this.#clock = dependencies.clock ?? (() => performance.now());
  }

  /** True once a check found the file damaged; it stays true until the process restarts. */
  get damaged(): boolean {
    return this.#damaged;
  }

  /** Told of an error any statement met; only SQLite's damage codes start a check, one at a time. */
  noticed(error: unknown): void {
    if (this.#damaged || this.#running || this.#closed || !reportsDamage(error)) return;
    if (this.#clock() < this.#nextCheckAt) return;
    // An in-memory database has no file for another connection to check.
    if (this.#file === ':memory:') return;
    const reported = error instanceof Error ? error.message : String(error);
    this.#logger.warn(
      { database: this.#file, err: error },
      'SQLite reported a damaged page; checking the database file with PRAGMA quick_check',
    );
    const run = this.#startCheck(this.#file);
    const settled = run.outcome.then((outcome) => this.#settle(outcome, reported));
    this.#running = { run, settled };
  }

  /** Resolves once the check under way (if any) has given its verdict. */
  async checked(): Promise<void> {
    await this.#running?.settled;
  }

  /** Stops a check under way; call before the database closes. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = this.#running;
    if (!running) return;
    await running.run.stop();
    await running.settled;
  }

  #settle(outcome: QuickCheckOutcome, reported: string): void {
    this.#running = undefined;
    if (this.#closed) return;
    this.#nextCheckAt = this.#clock() + recheckAfterMs;
    if (outcome.kind === 'damaged') {
      this.#damaged = true;
      this.#logger.error(
        { database: this.#file, reported, problems: outcome.detail },
        damagedDatabaseAdvice(this.#file, outcome.detail),
      );
    } else if (outcome.kind === 'intact') {
      this.#logger.warn(
        { database: this.#file, reported },
        'PRAGMA quick_check found the database file intact after SQLite reported damage; a report a minute from now checks again',
      );
    } else {
      this.#logger.warn(
        { database: this.#file, reported, reason: outcome.reason },
        'could not check the database file after SQLite reported damage; a report a minute from now checks again',
      );
    }
  }
}
