import { isoTimestamp } from '../../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import {
  assertChargeable,
  budgetExhausted,
  budgetSubject,
  dailyLimitReached,
  joinImageIds,
  monthlyLimitReached,
  type ReservationRequest,
  scopeLimitReached,
  scopeSubject,
  usdEpsilon,
  userSubject,
} from '../quota-accounting.ts';
import {
  type CounterRow,
  counterFromRow,
  type HeldRow,
  heldOrUsedOf,
  heldReservation,
  type SettledRow,
} from '../quota-rows.ts';
import type { Charge, HeldReservation, QuotaCounter, SettledHold } from '../quota-store.ts';

/**
 * The quota ledger's SQL on SQLite, synchronous. `hold` and `settle` open no transaction of their own: the
 * caller runs them in one (an IMMEDIATE transaction, or a write of the group-commit batcher, which undoes a
 * write that throws); that is what keeps a hold all or nothing.
 */
export class SqliteQuotaEngine {
  readonly #statements;
  readonly #holdTransaction;
  readonly #settleTransaction;

  constructor(database: SqliteDatabase) {
    // Positional parameters throughout: this is the hottest path of every request, and binding an
    // object by name costs more than the statement itself.
    this.#statements = {
      holdImages: database.prepare<[string, string, number, number], void>(
        `INSERT INTO quota_counters (subject, period, reserved_images) VALUES (?, ?, ?)
         ON CONFLICT (subject, period) DO UPDATE SET reserved_images = reserved_images + excluded.reserved_images
         WHERE used_images + reserved_images + excluded.reserved_images <= ?`,
      ),
      holdBudget: database.prepare<[string, string, number, number], void>(
        `INSERT INTO quota_counters (subject, period, reserved_usd) VALUES (?, ?, ?)
         ON CONFLICT (subject, period) DO UPDATE SET reserved_usd = reserved_usd + excluded.reserved_usd
         WHERE spent_usd + reserved_usd + excluded.reserved_usd <= ?`,
      ),
      insertReservation: database.prepare<
        [
          string,
          string | null,
          string,
          number,
          number,
          number,
          string,
          string | null,
          string | null,
          string | null,
          string | null,
        ],
        void
      >(
        `INSERT INTO reservations (user_id, scope_key, period, images, estimated_usd, held_usd, created_at, job_id, image_ids, day, tally)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      counter: database.prepare<[string, string], CounterRow>(
        'SELECT used_images, reserved_images, spent_usd, reserved_usd FROM quota_counters WHERE subject = ? AND period = ?',
      ),
      reservedImages: database.prepare<[number], { images: number }>(
        'SELECT images FROM reservations WHERE id = ?',
      ),
      // Answers the counter as settled: the caller's standing after a charge costs no second read.
      settleImages: database.prepare<
        [number, number, string, string],
        Pick<CounterRow, 'used_images' | 'reserved_images'>
      >(
        `UPDATE quota_counters SET reserved_images = reserved_images - ?, used_images = used_images + ?
         WHERE subject = ? AND period = ? RETURNING used_images, reserved_images`,
      ),
      // An upsert, not an update: without a budget, hold() holds nothing, and spending is still counted.
      settleBudget: database.prepare<[string, string, number, number], void>(
        `INSERT INTO quota_counters (subject, period, spent_usd) VALUES (?, ?, ?)
         ON CONFLICT (subject, period) DO UPDATE SET
           reserved_usd = MAX(0, reserved_usd - ?), spent_usd = spent_usd + excluded.spent_usd`,
      ),
      // Settling removes the hold and reads it back in one statement; a second settle finds nothing.
      settleReservation: database.prepare<[number, number], SettledRow>(
        `DELETE FROM reservations WHERE id = ? AND images >= ?
         RETURNING user_id, scope_key, period, images, held_usd, day, tally`,
      ),
      addToTally: database.prepare<[string, string, number], void>(
        `INSERT INTO quota_counters (subject, period, used_images) VALUES (?, ?, ?)
         ON CONFLICT (subject, period) DO UPDATE SET used_images = used_images + excluded.used_images`,
      ),
      heldBefore: database.prepare<[string], HeldRow>(
        'SELECT id, user_id, image_ids FROM reservations WHERE created_at < ?',
      ),
      allHeld: database.prepare<[], { id: number }>('SELECT id FROM reservations'),
      refundImages: database.prepare<[number, string, string], void>(
        'UPDATE quota_counters SET used_images = MAX(0, used_images - ?) WHERE subject = ? AND period = ?',
      ),
      refundBudget: database.prepare<[number, string, string], void>(
        'UPDATE quota_counters SET spent_usd = MAX(0, spent_usd - ?) WHERE subject = ? AND period = ?',
      ),
      heldForJob: database.prepare<[string], HeldRow>(
        'SELECT id, user_id, image_ids FROM reservations WHERE job_id = ?',
      ),
    };
    this.#holdTransaction = database.transaction((request: ReservationRequest, now: Date) =>
      this.hold(request, now),
    );
    this.#settleTransaction = database.transaction((reservationId: number, charge: Charge) =>
      this.settle(reservationId, charge),
    );
  }

  /** `hold` in an IMMEDIATE transaction of its own. */
  holdInTransaction(request: ReservationRequest, now: Date): { id: number; period: string } {
    return this.#holdTransaction.immediate(request, now);
  }

  /** `settle` in an IMMEDIATE transaction of its own. */
  settleInTransaction(reservationId: number, charge: Charge): SettledHold | undefined {
    return this.#settleTransaction.immediate(reservationId, charge);
  }

  /** Guarded upserts, one per limit, then the hold's row; throws the refusal (the caller's transaction undoes). */
  hold(request: ReservationRequest, now: Date): { id: number; period: string } {
    const createdAt = isoTimestamp(now);
    const period = createdAt.slice(0, 7); // billingPeriod(now), without formatting the date twice
    const userSubjectKey = userSubject(request.userId);
    if (!this.#tryHoldImages(userSubjectKey, period, request.images, request.userLimit)) {
      throw monthlyLimitReached(
        request.userLimit,
        this.#heldOrUsed(userSubjectKey, period, request.userLimit),
      );
    }
    // The day is a period of its own on the same subject: `user:<id>` × `YYYY-MM-DD`, guarded the same way.
    const dailyLimit = request.userDailyLimit;
    const day = dailyLimit === undefined ? null : createdAt.slice(0, 10);
    if (dailyLimit !== undefined && day !== null) {
      if (!this.#tryHoldImages(userSubjectKey, day, request.images, dailyLimit)) {
        throw dailyLimitReached(dailyLimit, this.#heldOrUsed(userSubjectKey, day, dailyLimit), now);
      }
    }
    if (request.scope) {
      const scopeSubjectKey = scopeSubject(request.scope.key);
      if (!this.#tryHoldImages(scopeSubjectKey, period, request.images, request.scope.limit)) {
        throw scopeLimitReached(
          request.scope.limit,
          this.#heldOrUsed(scopeSubjectKey, period, request.scope.limit),
        );
      }
    }
    // Without a budget there is nothing to hold against; spending is still counted when settled.
    const budget = request.budgetUsd;
    if (budget !== undefined) {
      const held =
        request.estimatedUsd <= budget + usdEpsilon &&
        this.#statements.holdBudget.run(budgetSubject, period, request.estimatedUsd, budget + usdEpsilon)
          .changes > 0;
      if (!held) throw budgetExhausted(now);
    }
    const inserted = this.#statements.insertReservation.run(
      request.userId,
      request.scope?.key ?? null,
      period,
      request.images,
      request.estimatedUsd,
      budget === undefined ? 0 : request.estimatedUsd,
      createdAt,
      request.jobId ?? null,
      joinImageIds(request.imageIds),
      day,
      request.tally ?? null,
    );
    return { id: Number(inserted.lastInsertRowid), period };
  }

  /** Charges and removes the hold; answers the user's counter as settled, or undefined if settled before. */
  settle(reservationId: number, charge: Charge): SettledHold | undefined {
    assertChargeable(charge);
    const reservation = this.#statements.settleReservation.get(reservationId, charge.images);
    if (!reservation) {
      const existing = this.#statements.reservedImages.get(reservationId);
      if (existing)
        throw new RangeError(`cannot charge ${charge.images} of ${existing.images} reserved images`);
      return undefined; // settled already
    }
    const { period, images } = reservation;
    const user = userSubject(reservation.user_id);
    const counter = this.#statements.settleImages.get(images, charge.images, user, period);
    if (reservation.day) this.#statements.settleImages.get(images, charge.images, user, reservation.day);
    if (reservation.scope_key) {
      this.#statements.settleImages.get(images, charge.images, scopeSubject(reservation.scope_key), period);
    }
    if (reservation.tally && charge.images > 0) {
      this.#statements.addToTally.run(reservation.tally, period, charge.images);
    }
    // A free model with no budget held leaves the budget row as it is: one statement fewer per request.
    if (charge.costUsd !== 0 || reservation.held_usd !== 0) {
      this.#statements.settleBudget.run(budgetSubject, period, charge.costUsd, reservation.held_usd);
    }
    return { period, used: counter?.used_images ?? 0, reserved: counter?.reserved_images ?? 0 };
  }

  counter(subject: string, period: string): QuotaCounter {
    const row = this.#statements.counter.get(subject, period);
    return counterFromRow(row);
  }

  heldBefore(before: Date): HeldReservation[] {
    return this.#statements.heldBefore.all(isoTimestamp(before)).map(heldReservation);
  }

  heldForJob(jobId: string): HeldReservation[] {
    return this.#statements.heldForJob.all(jobId).map(heldReservation);
  }

  heldIds(): number[] {
    return this.#statements.allHeld.all().map((row) => row.id);
  }

  refund(userId: string, period: string, charge: Charge): void {
    this.#statements.refundImages.run(charge.images, userSubject(userId), period);
    if (charge.costUsd !== 0) this.#statements.refundBudget.run(charge.costUsd, budgetSubject, period);
  }

  #tryHoldImages(subject: string, period: string, images: number, limit: number): boolean {
    return images <= limit && this.#statements.holdImages.run(subject, period, images, limit).changes > 0;
  }

  /** What counts against a limit now (charged plus held), for the error a refused hold reports. */
  #heldOrUsed(subject: string, period: string, limit: number): number {
    return heldOrUsedOf(this.#statements.counter.get(subject, period), limit);
  }
}
