import type { SqliteDatabase } from '../../database/open-database.ts';
import { billingPeriod } from '../billing-period.ts';
import {
  type AbandonedHold,
  assertReservable,
  budgetSubject,
  dailyUsage,
  dayPeriod,
  holdGivenBack,
  type Reservation,
  type ReservationRequest,
  type UsageSummary,
  usageSummary,
  userSubject,
} from '../quota-accounting.ts';
import type { Charge, HeldReservation } from '../quota-store.ts';
import { SqliteQuotaEngine } from './sqlite-quota-engine.ts';

/**
 * Monthly quota accounting on SQLite, synchronous: reserve → commit | release, with exact counts. Each
 * reservation is one IMMEDIATE transaction of guarded upserts (or a write of the group-commit batcher), so
 * concurrent requests, in one process or several sharing the file, can never take a counter past its limit.
 * The engine-neutral, async ledger over any `QuotaStore` is `QuotaLedger` (`quota-ledger.ts`); this one
 * serves SQLite's group-commit writes, which must be synchronous.
 */
export class SqliteQuotaLedger {
  readonly #now: () => Date;
  readonly #engine: SqliteQuotaEngine;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#now = now;
    this.#engine = new SqliteQuotaEngine(database);
  }

  /**
   * Holds `images` against the user's monthly limit, their daily limit, the scope's cap and the budget, all
   * or nothing. Throws `graphics_limit_reached` (with `limit_period: "day"` and `resets_at` when it is the
   * daily one), `scope_limit_reached` or `budget_exhausted` with the numbers.
   */
  reserve(request: ReservationRequest): Reservation {
    return this.#reserve(request, (now) => this.#engine.holdInTransaction(request, now));
  }

  /**
   * `reserve` as a write of the group-commit batcher, which undoes a write that throws: that is what keeps
   * the hold all or nothing, so no transaction of its own is opened. Every request takes this path, and a
   * savepoint pair is measurable there.
   */
  reserveInBatchedWrite(request: ReservationRequest): Reservation {
    return this.#reserve(request, (now) => this.#engine.hold(request, now));
  }

  #reserve(request: ReservationRequest, hold: (now: Date) => { id: number; period: string }): Reservation {
    assertReservable(request);
    const { id, period } = hold(this.#now());
    return { id, userId: request.userId, period, images: request.images };
  }

  /**
   * Charges `images` (≤ reserved) and `costUsd`, and gives back the rest of the hold. Settling twice is a
   * no-op that returns false, so a retry can never charge twice.
   */
  commit(reservationId: number, charge: Charge): boolean {
    return this.#engine.settleInTransaction(reservationId, charge) !== undefined;
  }

  /**
   * `commit` as a write of the group-commit batcher (see `reserveInBatchedWrite`). Answers the user's
   * standing after the charge (what a reply reports), read by the statement that charges. Throws
   * `generation_failed` when the hold is gone: recovery or the abandoned-hold sweeper gave it back (the
   * generation ran so long it was taken for dead) and may be removing its images, so nothing may be recorded.
   */
  commitInBatchedWrite(
    reservation: Reservation,
    charge: Charge,
    userLimit: number,
    userDailyLimit?: number,
  ): UsageSummary {
    const now = this.#now();
    const settled = this.#engine.settle(reservation.id, charge);
    if (!settled) throw holdGivenBack();
    // A hold from last month (the month turned while it ran) charged last month: this month is read afresh.
    // So is a plan with a daily allowance, whose standing today is a second counter.
    if (settled.period !== billingPeriod(now) || userDailyLimit !== undefined) {
      return this.usage(reservation.userId, userLimit, userDailyLimit);
    }
    return usageSummary(settled.period, settled.used, settled.reserved, userLimit, now);
  }

  /** Gives the whole hold back (nothing was produced). Returns false if it was already settled. */
  release(reservationId: number): boolean {
    return this.commit(reservationId, { images: 0, costUsd: 0 });
  }

  /** Every reservation still held (settled ones are gone): work in flight, or holds a crash left. */
  pendingReservationIds(): number[] {
    return this.#engine.heldIds();
  }

  /**
   * Releases holds made before `before` that nobody settled: a process that crashed mid-generation leaves
   * them, and without this they would count against the user until the month ends. `before` must be older
   * than any generation can run, so holds of work still running (here or in another process sharing the
   * file) are never touched. Returns the holds released.
   */
  releaseAbandoned(before: Date): AbandonedHold[] {
    return this.#releaseAll(this.#engine.heldBefore(before));
  }

  /** Releases whatever a job still holds (the job was interrupted); returns the holds released. */
  releaseForJob(jobId: string): AbandonedHold[] {
    return this.#releaseAll(this.#engine.heldForJob(jobId));
  }

  #releaseAll(holds: HeldReservation[]): AbandonedHold[] {
    const released: AbandonedHold[] = [];
    for (const hold of holds) {
      if (!this.release(hold.id)) continue; // settled meanwhile
      released.push({ userId: hold.userId, imageIds: hold.imageIds });
    }
    return released;
  }

  /**
   * Gives back images already charged to a user in `period`, and their cost to the budget (an operator
   * refunding an image they deleted). One guarded statement each: a counter never goes below zero.
   */
  refund(userId: string, period: string, charge: Charge): void {
    this.#engine.refund(userId, period, charge);
  }

  /** The user's usage in the current month, and today's when a daily limit is given. */
  usage(userId: string, limit: number, dailyLimit?: number): UsageSummary {
    const now = this.#now();
    const period = billingPeriod(now);
    const month = this.#engine.counter(userSubject(userId), period);
    const summary = usageSummary(period, month.usedImages, month.reservedImages, limit, now);
    if (dailyLimit === undefined) return summary;
    const day = dayPeriod(now);
    const today = this.#engine.counter(userSubject(userId), day);
    return { ...summary, daily: dailyUsage(day, today.usedImages, today.reservedImages, dailyLimit, now) };
  }

  /** What the service has spent at list price this month, and holds for running work. */
  spending(): { period: string; spentUsd: number; reservedUsd: number } {
    const period = billingPeriod(this.#now());
    const budget = this.#engine.counter(budgetSubject, period);
    return { period, spentUsd: budget.spentUsd, reservedUsd: budget.reservedUsd };
  }
}
