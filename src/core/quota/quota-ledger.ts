import { isoTimestamp } from '../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../database/open-database.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { billingPeriod, dayResetsAt, periodResetsAt } from './billing-period.ts';

/** What a generation asks to hold before any work starts. */
export interface ReservationRequest {
  userId: string;
  /** The user's monthly image limit (from their plan). */
  userLimit: number;
  /** The user's daily image limit (UTC days), held in the same reservation; undefined: no daily cap. */
  userDailyLimit?: number | undefined;
  /** An optional cap shared by everyone in a Discord server or Slack workspace. */
  scope: { key: string; limit: number } | undefined;
  images: number;
  /** What the images will cost at list price; held against the monthly budget. */
  estimatedUsd: number;
  /** The operator's monthly budget in USD, when one is set. */
  budgetUsd: number | undefined;
  /** The job this hold pays for, so recovering the job can release it at once. */
  jobId?: string | undefined;
  /**
   * The ids the images will be recorded under, chosen before any is stored: a hold released without its
   * charge (a crash) names what may have been stored for nothing.
   */
  imageIds?: readonly string[] | undefined;
  /**
   * A counter (a `quota_counters` subject) the charge is also added to when the hold settles, in the same
   * transaction: a chat place's images per person, so `/imagine-admin usage` shows what was charged.
   */
  tally?: string | undefined;
}

/** A hold released without its charge: its images were never recorded, whatever of them was stored. */
export interface AbandonedHold {
  userId: string;
  imageIds: string[];
}

/** A hold on quota, to be committed (for what was produced) or released. */
export interface Reservation {
  id: number;
  userId: string;
  period: string;
  images: number;
}

/** A user's standing this month. */
export interface UsageSummary {
  period: string;
  /** Images charged (delivered). */
  used: number;
  /** Images held by generations still running. */
  reserved: number;
  limit: number;
  remaining: number;
  resetsAt: Date;
  /** Today's standing (UTC), when the plan has a daily allowance. */
  daily?: DailyUsage | undefined;
}

/** A user's standing today (UTC), against a daily allowance. */
export interface DailyUsage {
  day: string;
  used: number;
  reserved: number;
  limit: number;
  remaining: number;
  resetsAt: Date;
}

interface CounterRow {
  used_images: number;
  reserved_images: number;
  spent_usd: number;
  reserved_usd: number;
}

interface HeldRow {
  id: number;
  user_id: string;
  image_ids: string | null;
}

interface ReservationRow {
  id: number;
  user_id: string;
  scope_key: string | null;
  period: string;
  images: number;
  estimated_usd: number;
  held_usd: number;
  created_at: string;
  day: string | null;
  tally: string | null;
}

const budgetSubject = 'budget';
const userSubject = (userId: string) => `user:${userId}`;
const scopeSubject = (scopeKey: string) => `scope:${scopeKey}`;
// Float sums of prices like 0.003 drift; a budget compare within a micro-dollar is exact enough.
const usdEpsilon = 1e-9;

/**
 * Monthly quota accounting: reserve → commit | release, with exact counts. Each reservation is one
 * IMMEDIATE transaction of guarded upserts, so concurrent requests, in one process or several sharing
 * the file, can never take a counter past its limit.
 */
export class QuotaLedger {
  readonly #now: () => Date;
  readonly #statements;
  readonly #reserveTransaction;
  readonly #settleTransaction;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#now = now;
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
      reservation: database.prepare<[number], ReservationRow>('SELECT * FROM reservations WHERE id = ?'),
      // Answers the counter as settled: the caller's standing after a charge costs no second read.
      settleImages: database.prepare<
        [number, number, string, string],
        Pick<CounterRow, 'used_images' | 'reserved_images'>
      >(
        `UPDATE quota_counters SET reserved_images = reserved_images - ?, used_images = used_images + ?
         WHERE subject = ? AND period = ? RETURNING used_images, reserved_images`,
      ),
      // An upsert, not an update: without a budget, reserve() holds nothing, and spending is still counted.
      settleBudget: database.prepare<[string, string, number, number], void>(
        `INSERT INTO quota_counters (subject, period, spent_usd) VALUES (?, ?, ?)
         ON CONFLICT (subject, period) DO UPDATE SET
           reserved_usd = MAX(0, reserved_usd - ?), spent_usd = spent_usd + excluded.spent_usd`,
      ),
      // Settling removes the hold and reads it back in one statement; a second settle finds nothing.
      settleReservation: database.prepare<
        [number, number],
        Pick<ReservationRow, 'user_id' | 'scope_key' | 'period' | 'images' | 'held_usd' | 'day' | 'tally'>
      >(
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
    this.#reserveTransaction = database.transaction((request: ReservationRequest, now: Date) =>
      this.#hold(request, now),
    );
    this.#settleTransaction = database.transaction(
      (reservationId: number, charge: { images: number; costUsd: number }) =>
        this.#settle(reservationId, charge),
    );
  }

  /**
   * Holds `images` against the user's monthly limit, their daily limit, the scope's cap and the budget, all
   * or nothing. Throws `graphics_limit_reached` (with `limit_period: "day"` and `resets_at` when it is the
   * daily one), `scope_limit_reached` or `budget_exhausted` with the numbers.
   */
  reserve(request: ReservationRequest): Reservation {
    return this.#reserve(request, (now) => this.#reserveTransaction.immediate(request, now));
  }

  /**
   * `reserve` as a write of the group-commit batcher, which undoes a write that throws: that is what keeps
   * the hold all or nothing, so no transaction of its own is opened. Every request takes this path, and a
   * savepoint pair is measurable there.
   */
  reserveInBatchedWrite(request: ReservationRequest): Reservation {
    return this.#reserve(request, (now) => this.#hold(request, now));
  }

  #reserve(request: ReservationRequest, hold: (now: Date) => { id: number; period: string }): Reservation {
    if (!Number.isInteger(request.images) || request.images < 1) {
      throw new RangeError(`a reservation needs at least one image, got ${request.images}`);
    }
    const { id, period } = hold(this.#now());
    return { id, userId: request.userId, period, images: request.images };
  }

  /**
   * Charges `images` (≤ reserved) and `costUsd`, and gives back the rest of the hold. Settling twice is a
   * no-op that returns false, so a retry can never charge twice.
   */
  commit(reservationId: number, charge: { images: number; costUsd: number }): boolean {
    return this.#settleTransaction.immediate(reservationId, charge) !== undefined;
  }

  /**
   * `commit` as a write of the group-commit batcher (see `reserveInBatchedWrite`). Answers the user's
   * standing after the charge (what a reply reports), read by the statement that charges. Throws
   * `generation_failed` when the hold is gone: recovery or the abandoned-hold sweeper gave it back (the
   * generation ran so long it was taken for dead) and may be removing its images, so nothing may be recorded.
   */
  commitInBatchedWrite(
    reservation: Reservation,
    charge: { images: number; costUsd: number },
    userLimit: number,
    userDailyLimit?: number,
  ): UsageSummary {
    const now = this.#now();
    const settled = this.#settle(reservation.id, charge);
    if (!settled) {
      throw new ImagineError(
        'generation_failed',
        'The image took too long and its quota hold was given back; you were not charged',
      );
    }
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
    return this.#statements.allHeld.all().map((row) => row.id);
  }

  /**
   * Releases holds made before `before` that nobody settled: a process that crashed mid-generation leaves
   * them, and without this they would count against the user until the month ends. `before` must be older
   * than any generation can run, so holds of work still running (here or in another process sharing the
   * file) are never touched. Returns the holds released.
   */
  releaseAbandoned(before: Date): AbandonedHold[] {
    return this.#releaseAll(this.#statements.heldBefore.all(isoTimestamp(before)));
  }

  /** Releases whatever a job still holds (the job was interrupted); returns the holds released. */
  releaseForJob(jobId: string): AbandonedHold[] {
    return this.#releaseAll(this.#statements.heldForJob.all(jobId));
  }

  #releaseAll(rows: HeldRow[]): AbandonedHold[] {
    const released: AbandonedHold[] = [];
    for (const row of rows) {
      if (!this.release(row.id)) continue; // settled meanwhile
      released.push({ userId: row.user_id, imageIds: row.image_ids ? row.image_ids.split(',') : [] });
    }
    return released;
  }

  /**
   * Gives back images already charged to a user in `period`, and their cost to the budget (an operator
   * refunding an image they deleted). One guarded statement each: a counter never goes below zero.
   */
  refund(userId: string, period: string, charge: { images: number; costUsd: number }): void {
    this.#statements.refundImages.run(charge.images, userSubject(userId), period);
    if (charge.costUsd !== 0) this.#statements.refundBudget.run(charge.costUsd, budgetSubject, period);
  }

  /** The user's usage in the current month, and today's when a daily limit is given. */
  usage(userId: string, limit: number, dailyLimit?: number): UsageSummary {
    const now = this.#now();
    const period = billingPeriod(now);
    const row = this.#statements.counter.get(userSubject(userId), period);
    const summary = usageSummary(period, row?.used_images ?? 0, row?.reserved_images ?? 0, limit, now);
    if (dailyLimit === undefined) return summary;
    const day = dayPeriod(now);
    const today = this.#statements.counter.get(userSubject(userId), day);
    const used = today?.used_images ?? 0;
    const reserved = today?.reserved_images ?? 0;
    return {
      ...summary,
      daily: {
        day,
        used,
        reserved,
        limit: dailyLimit,
        remaining: Math.max(0, dailyLimit - used - reserved),
        resetsAt: dayResetsAt(now),
      },
    };
  }

  /** What the service has spent at list price this month, and holds for running work. */
  spending(): { period: string; spentUsd: number; reservedUsd: number } {
    const period = billingPeriod(this.#now());
    const row = this.#statements.counter.get(budgetSubject, period);
    return { period, spentUsd: row?.spent_usd ?? 0, reservedUsd: row?.reserved_usd ?? 0 };
  }

  #hold(request: ReservationRequest, now: Date): { id: number; period: string } {
    const createdAt = isoTimestamp(now);
    const period = createdAt.slice(0, 7); // billingPeriod(now), without formatting the date twice
    const userSubjectKey = userSubject(request.userId);
    if (!this.#tryHoldImages(userSubjectKey, period, request.images, request.userLimit)) {
      throw new ImagineError(
        'graphics_limit_reached',
        `Monthly graphics limit reached: ${request.userLimit} images`,
        {
          used: this.#heldOrUsed(userSubjectKey, period, request.userLimit),
          limit: request.userLimit,
        },
      );
    }
    // The day is a period of its own on the same subject: `user:<id>` × `YYYY-MM-DD`, guarded the same way.
    const dailyLimit = request.userDailyLimit;
    const day = dailyLimit === undefined ? null : createdAt.slice(0, 10);
    if (dailyLimit !== undefined && day !== null) {
      if (!this.#tryHoldImages(userSubjectKey, day, request.images, dailyLimit)) {
        const resetsAt = dayResetsAt(now);
        throw new ImagineError(
          'graphics_limit_reached',
          `Daily graphics limit reached: ${dailyLimit} images`,
          {
            used: this.#heldOrUsed(userSubjectKey, day, dailyLimit),
            limit: dailyLimit,
            limit_period: 'day',
            // Whole seconds, as every other timestamp of the contract.
            resets_at: `${isoTimestamp(resetsAt).slice(0, 19)}Z`,
            retry_after: Math.ceil((resetsAt.getTime() - now.getTime()) / 1000),
          },
        );
      }
    }
    if (request.scope) {
      const scopeSubjectKey = scopeSubject(request.scope.key);
      if (!this.#tryHoldImages(scopeSubjectKey, period, request.images, request.scope.limit)) {
        throw new ImagineError('scope_limit_reached', undefined, {
          used: this.#heldOrUsed(scopeSubjectKey, period, request.scope.limit),
          limit: request.scope.limit,
        });
      }
    }
    // Without a budget there is nothing to hold against; spending is still counted when settled.
    const budget = request.budgetUsd;
    if (budget !== undefined) {
      const held =
        request.estimatedUsd <= budget + usdEpsilon &&
        this.#statements.holdBudget.run(budgetSubject, period, request.estimatedUsd, budget + usdEpsilon)
          .changes > 0;
      if (!held) {
        throw new ImagineError('budget_exhausted', undefined, {
          retry_after: Math.ceil((periodResetsAt(now).getTime() - now.getTime()) / 1000),
        });
      }
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
      // Ids are UUIDs: a comma never occurs in one, and joining costs less than JSON.
      request.imageIds === undefined || request.imageIds.length === 0 ? null : request.imageIds.join(','),
      day,
      request.tally ?? null,
    );
    return { id: Number(inserted.lastInsertRowid), period };
  }

  #tryHoldImages(subject: string, period: string, images: number, limit: number): boolean {
    return images <= limit && this.#statements.holdImages.run(subject, period, images, limit).changes > 0;
  }

  /** What counts against a limit now (charged plus held), for the error a refused hold reports. */
  #heldOrUsed(subject: string, period: string, limit: number): number {
    const row = this.#statements.counter.get(subject, period);
    return Math.min(limit, (row?.used_images ?? 0) + (row?.reserved_images ?? 0));
  }

  /** Charges and removes the hold; answers the user's counter as settled, or undefined if settled before. */
  #settle(
    reservationId: number,
    charge: { images: number; costUsd: number },
  ): { period: string; used: number; reserved: number } | undefined {
    if (charge.images < 0) throw new RangeError(`cannot charge ${charge.images} images`);
    const reservation = this.#statements.settleReservation.get(reservationId, charge.images);
    if (!reservation) {
      const existing = this.#statements.reservation.get(reservationId);
      if (existing)
        throw new RangeError(`cannot charge ${charge.images} of ${existing.images} reserved images`);
      return undefined; // settled already
    }
    const { period, images } = reservation;
    const counter = this.#statements.settleImages.get(
      images,
      charge.images,
      userSubject(reservation.user_id),
      period,
    );
    if (reservation.day) {
      this.#statements.settleImages.get(
        images,
        charge.images,
        userSubject(reservation.user_id),
        reservation.day,
      );
    }
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
    return {
      period,
      used: counter?.used_images ?? 0,
      reserved: counter?.reserved_images ?? 0,
    };
  }
}

/** The UTC day an instant falls in, as `YYYY-MM-DD`: the period a daily allowance counts in. */
function dayPeriod(instant: Date): string {
  return isoTimestamp(instant).slice(0, 10);
}

function usageSummary(
  period: string,
  used: number,
  reserved: number,
  limit: number,
  now: Date,
): UsageSummary {
  return {
    period,
    used,
    reserved,
    limit,
    remaining: Math.max(0, limit - used - reserved),
    resetsAt: periodResetsAt(now),
  };
}
