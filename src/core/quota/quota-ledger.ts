import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from '../database/open-database.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { billingPeriod, periodResetsAt } from './billing-period.ts';

/** What a generation asks to hold before any work starts. */
export interface ReservationRequest {
  userId: string;
  /** The user's monthly image limit (from their plan). */
  userLimit: number;
  /** An optional cap shared by everyone in a Discord server or Slack workspace. */
  scope: { key: string; limit: number } | undefined;
  images: number;
  /** What the images will cost at list price; held against the monthly budget. */
  estimatedUsd: number;
  /** The operator's monthly budget in USD, when one is set. */
  budgetUsd: number | undefined;
}

/** A hold on quota, to be committed (for what was produced) or released. */
export interface Reservation {
  id: string;
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
}

interface HoldParameters {
  subject: string;
  period: string;
  amount: number;
  limit: number;
}

interface CounterRow {
  used_images: number;
  reserved_images: number;
  spent_usd: number;
  reserved_usd: number;
}

interface ReservationRow {
  id: string;
  user_id: string;
  scope_key: string | null;
  period: string;
  images: number;
  estimated_usd: number;
  state: 'pending' | 'committed' | 'released';
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
  readonly #database: SqliteDatabase;
  readonly #now: () => Date;
  readonly #statements;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#database = database;
    this.#now = now;
    this.#statements = {
      holdImages: database.prepare<[HoldParameters], void>(
        `INSERT INTO quota_counters (subject, period, reserved_images) VALUES (@subject, @period, @amount)
         ON CONFLICT (subject, period) DO UPDATE SET reserved_images = reserved_images + excluded.reserved_images
         WHERE used_images + reserved_images + excluded.reserved_images <= @limit`,
      ),
      holdBudget: database.prepare<[HoldParameters], void>(
        `INSERT INTO quota_counters (subject, period, reserved_usd) VALUES (@subject, @period, @amount)
         ON CONFLICT (subject, period) DO UPDATE SET reserved_usd = reserved_usd + excluded.reserved_usd
         WHERE spent_usd + reserved_usd + excluded.reserved_usd <= @limit`,
      ),
      insertReservation: database.prepare(
        `INSERT INTO reservations (id, user_id, scope_key, period, images, estimated_usd, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)`,
      ),
      counter: database.prepare<[string, string], CounterRow>(
        'SELECT used_images, reserved_images, spent_usd, reserved_usd FROM quota_counters WHERE subject = ? AND period = ?',
      ),
      reservation: database.prepare<[string], ReservationRow>('SELECT * FROM reservations WHERE id = ?'),
      settleImages: database.prepare<[number, number, string, string], void>(
        `UPDATE quota_counters SET reserved_images = reserved_images - ?, used_images = used_images + ?
         WHERE subject = ? AND period = ?`,
      ),
      settleBudget: database.prepare<[number, number, string, string], void>(
        `UPDATE quota_counters SET reserved_usd = MAX(0, reserved_usd - ?), spent_usd = spent_usd + ?
         WHERE subject = ? AND period = ?`,
      ),
      markSettled: database.prepare(
        `UPDATE reservations SET state = ?, charged_images = ?, charged_usd = ?, settled_at = ?
         WHERE id = ? AND state = 'pending'`,
      ),
      pending: database.prepare<[], { id: string }>("SELECT id FROM reservations WHERE state = 'pending'"),
    };
  }

  /**
   * Holds `images` against the user's limit, the scope's cap and the budget, all or nothing.
   * Throws `graphics_limit_reached`, `scope_limit_reached` or `budget_exhausted` with the numbers.
   */
  reserve(request: ReservationRequest): Reservation {
    if (!Number.isInteger(request.images) || request.images < 1) {
      throw new RangeError(`a reservation needs at least one image, got ${request.images}`);
    }
    const now = this.#now();
    const period = billingPeriod(now);
    const id = randomUUID();
    const reserve = this.#database.transaction(() => {
      this.#holdImages(userSubject(request.userId), period, request.images, request.userLimit, (used) =>
        new ImagineError('graphics_limit_reached', `Monthly graphics limit reached: ${request.userLimit} images`, {
          used,
          limit: request.userLimit,
        }),
      );
      if (request.scope) {
        const scope = request.scope;
        this.#holdImages(scopeSubject(scope.key), period, request.images, scope.limit, (used) =>
          new ImagineError('scope_limit_reached', undefined, {
            used,
            limit: scope.limit,
          }),
        );
      }
      const budget = request.budgetUsd ?? Number.POSITIVE_INFINITY;
      const held = this.#statements.holdBudget.run({
        subject: budgetSubject,
        period,
        amount: request.estimatedUsd,
        // SQLite has no infinity literal binding; a limit past any real spend means "no budget".
        limit: Number.isFinite(budget) ? budget + usdEpsilon : Number.MAX_VALUE,
      });
      if (held.changes === 0 || request.estimatedUsd > budget + usdEpsilon) {
        throw new ImagineError('budget_exhausted', undefined, {
          retry_after: Math.ceil((periodResetsAt(now).getTime() - now.getTime()) / 1000),
        });
      }
      this.#statements.insertReservation.run(
        id,
        request.userId,
        request.scope?.key ?? null,
        period,
        request.images,
        request.estimatedUsd,
        now.toISOString(),
      );
    });
    reserve.immediate();
    return { id, userId: request.userId, period, images: request.images };
  }

  /**
   * Charges `images` (≤ reserved) and `costUsd`, and gives back the rest of the hold. Settling twice is a
   * no-op that returns false, so a retry can never charge twice.
   */
  commit(reservationId: string, charge: { images: number; costUsd: number }): boolean {
    return this.#database.transaction(() => this.#settle(reservationId, charge)).immediate();
  }

  /** Gives the whole hold back (nothing was produced). Returns false if it was already settled. */
  release(reservationId: string): boolean {
    return this.commit(reservationId, { images: 0, costUsd: 0 });
  }

  /** Reservations still pending: after a crash, these are the holds nobody settled. */
  pendingReservationIds(): string[] {
    return this.#statements.pending.all().map((row) => row.id);
  }

  /** The user's usage in the current month. */
  usage(userId: string, limit: number): UsageSummary {
    const now = this.#now();
    const period = billingPeriod(now);
    const row = this.#statements.counter.get(userSubject(userId), period);
    const used = row?.used_images ?? 0;
    const reserved = row?.reserved_images ?? 0;
    return { period, used, reserved, limit, remaining: Math.max(0, limit - used - reserved), resetsAt: periodResetsAt(now) };
  }

  /** What the service has spent at list price this month, and holds for running work. */
  spending(): { period: string; spentUsd: number; reservedUsd: number } {
    const period = billingPeriod(this.#now());
    const row = this.#statements.counter.get(budgetSubject, period);
    return { period, spentUsd: row?.spent_usd ?? 0, reservedUsd: row?.reserved_usd ?? 0 };
  }

  #holdImages(
    subject: string,
    period: string,
    images: number,
    limit: number,
    limitError: (used: number) => ImagineError,
  ): void {
    const held = images <= limit ? this.#statements.holdImages.run({ subject, period, amount: images, limit }) : { changes: 0 };
    if (held.changes === 0) {
      const row = this.#statements.counter.get(subject, period);
      throw limitError(Math.min(limit, (row?.used_images ?? 0) + (row?.reserved_images ?? 0)));
    }
  }

  #settle(reservationId: string, charge: { images: number; costUsd: number }): boolean {
    const reservation = this.#statements.reservation.get(reservationId);
    if (!reservation) throw new Error(`unknown reservation ${reservationId}`);
    if (reservation.state !== 'pending') return false;
    if (charge.images < 0 || charge.images > reservation.images) {
      throw new RangeError(`cannot charge ${charge.images} of ${reservation.images} reserved images`);
    }
    const state = charge.images > 0 ? 'committed' : 'released';
    this.#statements.markSettled.run(state, charge.images, charge.costUsd, this.#now().toISOString(), reservationId);
    const { period, images } = reservation;
    this.#statements.settleImages.run(images, charge.images, userSubject(reservation.user_id), period);
    if (reservation.scope_key) {
      this.#statements.settleImages.run(images, charge.images, scopeSubject(reservation.scope_key), period);
    }
    this.#statements.settleBudget.run(reservation.estimated_usd, charge.costUsd, budgetSubject, period);
    return true;
  }
}
