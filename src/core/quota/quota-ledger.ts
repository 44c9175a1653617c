import { billingPeriod } from './billing-period.ts';
import {
  type AbandonedHold,
  assertChargeable,
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
} from './quota-accounting.ts';
import type { Charge, HeldReservation, QuotaStore, SettledHold } from './quota-store.ts';

export type {
  AbandonedHold,
  DailyUsage,
  Reservation,
  ReservationRequest,
  UsageSummary,
} from './quota-accounting.ts';

/**
 * Monthly quota accounting over any `QuotaStore` engine: reserve → commit | release, with exact counts.
 * Every front door and the job runner use this one; SQLite's group-commit writes run the synchronous
 * `SqliteQuotaLedger` (`sqlite/sqlite-quota-ledger.ts`) inside their transaction.
 */
export class QuotaLedger {
  readonly #store: QuotaStore;
  readonly #now: () => Date;

  constructor(store: QuotaStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  /** Holds the request against every limit it names, all or nothing . */
  async reserve(request: ReservationRequest): Promise<Reservation> {
    return this.reserveThrough<never>(request, (now) => this.#store.hold(request, now));
  }

  /**
   * As `reserve`, with the engine's hold given by the caller: one that writes more in the same statement
   * (a job row, on PostgreSQL) and may answer `skipped` (a word, such as `'job-queued'`) instead of holding.
   * `hold` must keep `QuotaStore.hold`'s promise: all or nothing, never past a limit, the same refusals.
   */
  async reserveThrough<Skipped extends string>(
    request: ReservationRequest,
    hold: (now: Date) => Promise<{ id: number; period: string } | Skipped>,
  ): Promise<Reservation | Skipped> {
    assertReservable(request);
    const held = await hold(this.#now());
    if (typeof held === 'string') return held;
    return { id: held.id, userId: request.userId, period: held.period, images: request.images };
  }

  /** Charges `images` (≤ reserved) and `costUsd`; false when the hold was settled before. */
  async commit(reservationId: number, charge: Charge): Promise<boolean> {
    assertChargeable(charge);
    return (await this.#store.settle(reservationId, charge)) !== undefined;
  }

  /**
   * Charges and answers the user's standing after the charge; throws `generation_failed` when the hold is
   * gone (given back by recovery or the sweeper), so nothing may be recorded.
   */
  async commitAndReport(
    reservation: Reservation,
    charge: Charge,
    userLimit: number,
    userDailyLimit?: number,
  ): Promise<UsageSummary> {
    assertChargeable(charge);
    const settled = await this.#store.settle(reservation.id, charge);
    return this.reportSettled(reservation, settled, userLimit, userDailyLimit);
  }

  /**
   * `commitAndReport`'s answer for a hold the engine settled itself (in one statement with the writes that
   * commit with it): `settled` is what `QuotaStore.settle` answered.
   */
  async reportSettled(
    reservation: Reservation,
    settled: SettledHold | undefined,
    userLimit: number,
    userDailyLimit?: number,
  ): Promise<UsageSummary> {
    if (!settled) throw holdGivenBack();
    const now = this.#now();
    if (settled.period !== billingPeriod(now) || userDailyLimit !== undefined) {
      return this.usage(reservation.userId, userLimit, userDailyLimit);
    }
    return usageSummary(settled.period, settled.used, settled.reserved, userLimit, now);
  }

  /** Gives the whole hold back; false when it was already settled. */
  async release(reservationId: number): Promise<boolean> {
    return this.commit(reservationId, { images: 0, costUsd: 0 });
  }

  /** Every reservation still held: work in flight, or holds a crash left. */
  async pendingReservationIds(): Promise<number[]> {
    return this.#store.heldIds();
  }

  /** Releases holds made before `before` that nobody settled; returns the holds released. */
  async releaseAbandoned(before: Date): Promise<AbandonedHold[]> {
    return this.#releaseAll(await this.#store.heldBefore(before));
  }

  /** Releases whatever a job still holds; returns the holds released. */
  async releaseForJob(jobId: string): Promise<AbandonedHold[]> {
    return this.#releaseAll(await this.#store.heldForJob(jobId));
  }

  async #releaseAll(holds: HeldReservation[]): Promise<AbandonedHold[]> {
    const released: AbandonedHold[] = [];
    // One at a time: a hold settled meanwhile (another process) is skipped, never counted twice.
    for (const hold of holds) {
      if (!(await this.release(hold.id))) continue;
      released.push({ userId: hold.userId, imageIds: hold.imageIds });
    }
    return released;
  }

  /** Gives back images already charged in `period`, and their cost; counters never go below zero. */
  async refund(userId: string, period: string, charge: Charge): Promise<void> {
    await this.#store.refund(userId, period, charge);
  }

  /** The user's usage in the current month, and today's when a daily limit is given. */
  async usage(userId: string, limit: number, dailyLimit?: number): Promise<UsageSummary> {
    const now = this.#now();
    const period = billingPeriod(now);
    const month = await this.#store.counter(userSubject(userId), period);
    const summary = usageSummary(period, month.usedImages, month.reservedImages, limit, now);
    if (dailyLimit === undefined) return summary;
    const day = dayPeriod(now);
    const today = await this.#store.counter(userSubject(userId), day);
    return { ...summary, daily: dailyUsage(day, today.usedImages, today.reservedImages, dailyLimit, now) };
  }

  /** What the service has spent at list price this month, and holds for running work. */
  async spending(): Promise<{ period: string; spentUsd: number; reservedUsd: number }> {
    const period = billingPeriod(this.#now());
    const budget = await this.#store.counter(budgetSubject, period);
    return { period, spentUsd: budget.spentUsd, reservedUsd: budget.reservedUsd };
  }
}
