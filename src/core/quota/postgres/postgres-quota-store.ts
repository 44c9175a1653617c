import type { Sql, TransactionSql } from 'postgres';
import { isoTimestamp } from '../../database/iso-timestamp.ts';
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
import type { Charge, HeldReservation, QuotaCounter, QuotaStore, SettledHold } from '../quota-store.ts';

/** The pool, or a transaction on it. */
export type Queryable = Sql | TransactionSql;

/**
 * `QuotaStore` on PostgreSQL (the `postgres` driver's pool). A hold is one transaction of guarded upserts,
 * the same statements as on SQLite: `INSERT … ON CONFLICT DO UPDATE … WHERE used + reserved + n <= limit`
 * takes the counter row's lock before it evaluates the guard against the latest committed row, so two holds
 * on one counter queue on that row instead of both reading the old sum — no read-then-write race, under any
 * concurrency. Counters are always locked in one order (user month, user day, scope, budget), so holds and
 * settles never deadlock each other.
 */
export class PostgresQuotaStore implements QuotaStore {
  readonly #sql: Queryable;

  /** On the pool, or on a caller's transaction (a group commit), whose commit then carries every write. */
  constructor(sql: Queryable) {
    this.#sql = sql;
  }

  async hold(request: ReservationRequest, now: Date): Promise<{ id: number; period: string }> {
    const createdAt = isoTimestamp(now);
    const period = createdAt.slice(0, 7);
    const dailyLimit = request.userDailyLimit;
    const day = dailyLimit === undefined ? null : createdAt.slice(0, 10);
    const user = userSubject(request.userId);
    if (dailyLimit === undefined && request.scope === undefined && request.budgetUsd === undefined) {
      return this.#holdMonthOnly(request, user, period, now);
    }
    // A refusal thrown inside the transaction rolls back the counters it had already held.
    return inTransaction(this.#sql, async (sql) => {
      if (!(await tryHoldImages(sql, user, period, request.images, request.userLimit))) {
        throw monthlyLimitReached(request.userLimit, await heldOrUsed(sql, user, period, request.userLimit));
      }
      if (dailyLimit !== undefined && day !== null) {
        if (!(await tryHoldImages(sql, user, day, request.images, dailyLimit))) {
          throw dailyLimitReached(dailyLimit, await heldOrUsed(sql, user, day, dailyLimit), now);
        }
      }
      if (request.scope) {
        const scope = scopeSubject(request.scope.key);
        if (!(await tryHoldImages(sql, scope, period, request.images, request.scope.limit))) {
          throw scopeLimitReached(
            request.scope.limit,
            await heldOrUsed(sql, scope, period, request.scope.limit),
          );
        }
      }
      const budget = request.budgetUsd;
      if (budget !== undefined) {
        const held =
          request.estimatedUsd <= budget + usdEpsilon &&
          (
            await sql`
              INSERT INTO quota_counters AS c (subject, period, reserved_usd)
              VALUES (${budgetSubject}, ${period}, ${request.estimatedUsd})
              ON CONFLICT (subject, period) DO UPDATE SET reserved_usd = c.reserved_usd + excluded.reserved_usd
              WHERE c.spent_usd + c.reserved_usd + excluded.reserved_usd <= ${budget + usdEpsilon}
              RETURNING 1`
          ).length > 0;
        if (!held) throw budgetExhausted(now);
      }
      const [inserted] = await sql<{ id: string }[]>`
        INSERT INTO reservations
          (user_id, scope_key, period, day, images, estimated_usd, held_usd, created_at, job_id, image_ids, tally)
        VALUES (${request.userId}, ${request.scope?.key ?? null}, ${period}, ${day}, ${request.images},
          ${request.estimatedUsd}, ${budget === undefined ? 0 : request.estimatedUsd}, ${now},
          ${request.jobId ?? null}, ${joinImageIds(request.imageIds)}, ${request.tally ?? null})
        RETURNING id`;
      return { id: Number(inserted?.id), period };
    });
  }

  /**
   * The common hold (a monthly limit, nothing else) as one statement, so one round trip in autocommit: the
   * hold's row is inserted from the guarded upsert's RETURNING, so it exists exactly when the counter
   * moved, and a refusal changes nothing.
   */
  async #holdMonthOnly(
    request: ReservationRequest,
    user: string,
    period: string,
    now: Date,
  ): Promise<{ id: number; period: string }> {
    const [inserted] =
      request.images > request.userLimit
        ? []
        : await this.#sql<{ id: string }[]>`
          WITH held AS (
            INSERT INTO quota_counters AS c (subject, period, reserved_images)
            VALUES (${user}, ${period}, ${request.images})
            ON CONFLICT (subject, period) DO UPDATE SET reserved_images = c.reserved_images + excluded.reserved_images
            WHERE c.used_images + c.reserved_images + excluded.reserved_images <= ${request.userLimit}
            RETURNING 1
          )
          INSERT INTO reservations
            (user_id, scope_key, period, day, images, estimated_usd, held_usd, created_at, job_id, image_ids, tally)
          SELECT ${request.userId}, NULL, ${period}, NULL, ${request.images}, ${request.estimatedUsd}, 0,
            ${now}, ${request.jobId ?? null}, ${joinImageIds(request.imageIds)}, ${request.tally ?? null}
          FROM held
          RETURNING id`;
    if (!inserted) {
      throw monthlyLimitReached(
        request.userLimit,
        await heldOrUsed(this.#sql, user, period, request.userLimit),
      );
    }
    return { id: Number(inserted.id), period };
  }

  async settle(reservationId: number, charge: Charge): Promise<SettledHold | undefined> {
    assertChargeable(charge);
    // One transaction: the hold's removal and every counter it charges commit together or not at all.
    return inTransaction(this.#sql, async (sql) => {
      const [reservation] = await sql<SettledRow[]>`
        DELETE FROM reservations WHERE id = ${reservationId} AND images >= ${charge.images}
        RETURNING user_id, scope_key, period, images, held_usd, day, tally`;
      if (!reservation) {
        const [existing] = await sql<{ images: number }[]>`
          SELECT images FROM reservations WHERE id = ${reservationId}`;
        if (existing)
          throw new RangeError(`cannot charge ${charge.images} of ${existing.images} reserved images`);
        return undefined; // settled already
      }
      const { period, images } = reservation;
      const user = userSubject(reservation.user_id);
      const counter = await settleImages(sql, user, period, images, charge.images);
      if (reservation.day) await settleImages(sql, user, reservation.day, images, charge.images);
      if (reservation.scope_key) {
        await settleImages(sql, scopeSubject(reservation.scope_key), period, images, charge.images);
      }
      if (reservation.tally && charge.images > 0) {
        await sql`
          INSERT INTO quota_counters AS c (subject, period, used_images)
          VALUES (${reservation.tally}, ${period}, ${charge.images})
          ON CONFLICT (subject, period) DO UPDATE SET used_images = c.used_images + excluded.used_images`;
      }
      if (charge.costUsd !== 0 || reservation.held_usd !== 0) {
        await sql`
          INSERT INTO quota_counters AS c (subject, period, spent_usd)
          VALUES (${budgetSubject}, ${period}, ${charge.costUsd})
          ON CONFLICT (subject, period) DO UPDATE SET
            reserved_usd = GREATEST(0, c.reserved_usd - ${reservation.held_usd}),
            spent_usd = c.spent_usd + excluded.spent_usd`;
      }
      return { period, used: counter?.used_images ?? 0, reserved: counter?.reserved_images ?? 0 };
    });
  }

  async counter(subject: string, period: string): Promise<QuotaCounter> {
    const [row] = await this.#sql<CounterRow[]>`
      SELECT used_images, reserved_images, spent_usd, reserved_usd
      FROM quota_counters WHERE subject = ${subject} AND period = ${period}`;
    return counterFromRow(row);
  }

  async heldBefore(before: Date): Promise<HeldReservation[]> {
    const rows = await this.#sql<HeldRow[]>`
      SELECT id, user_id, image_ids FROM reservations WHERE created_at < ${before} ORDER BY id`;
    return rows.map(heldReservation);
  }

  async heldForJob(jobId: string): Promise<HeldReservation[]> {
    const rows = await this.#sql<HeldRow[]>`
      SELECT id, user_id, image_ids FROM reservations WHERE job_id = ${jobId} ORDER BY id`;
    return rows.map(heldReservation);
  }

  async heldIds(): Promise<number[]> {
    const rows = await this.#sql<{ id: string }[]>`SELECT id FROM reservations ORDER BY id`;
    return rows.map((row) => Number(row.id));
  }

  async refund(userId: string, period: string, charge: Charge): Promise<void> {
    await inTransaction(this.#sql, (sql) => refundCharge(sql, userId, period, charge));
  }
}

/**
 * Takes a charge back off a user's month and the budget, never below zero, in the caller's transaction
 * (the console deletes an image, refunds it and audits both in one).
 */
export async function refundCharge(
  sql: Queryable,
  userId: string,
  period: string,
  charge: Charge,
): Promise<void> {
  await sql`
    UPDATE quota_counters SET used_images = GREATEST(0, used_images - ${charge.images})
    WHERE subject = ${userSubject(userId)} AND period = ${period}`;
  if (charge.costUsd !== 0) {
    await sql`
      UPDATE quota_counters SET spent_usd = GREATEST(0, spent_usd - ${charge.costUsd})
      WHERE subject = ${budgetSubject} AND period = ${period}`;
  }
}

/** The guarded upsert: holds `images` on the counter only if charged + held + images stays within `limit`. */
async function tryHoldImages(
  sql: Queryable,
  subject: string,
  period: string,
  images: number,
  limit: number,
): Promise<boolean> {
  if (images > limit) return false;
  const rows = await sql`
    INSERT INTO quota_counters AS c (subject, period, reserved_images) VALUES (${subject}, ${period}, ${images})
    ON CONFLICT (subject, period) DO UPDATE SET reserved_images = c.reserved_images + excluded.reserved_images
    WHERE c.used_images + c.reserved_images + excluded.reserved_images <= ${limit}
    RETURNING 1`;
  return rows.length > 0;
}

/** What counts against a limit now (charged plus held), for the error a refused hold reports. */
async function heldOrUsed(sql: Queryable, subject: string, period: string, limit: number): Promise<number> {
  const [row] = await sql<Pick<CounterRow, 'used_images' | 'reserved_images'>[]>`
    SELECT used_images, reserved_images FROM quota_counters WHERE subject = ${subject} AND period = ${period}`;
  return heldOrUsedOf(row, limit);
}

async function settleImages(
  sql: Queryable,
  subject: string,
  period: string,
  held: number,
  charged: number,
): Promise<Pick<CounterRow, 'used_images' | 'reserved_images'> | undefined> {
  const [row] = await sql<Pick<CounterRow, 'used_images' | 'reserved_images'>[]>`
    UPDATE quota_counters SET reserved_images = reserved_images - ${held}, used_images = used_images + ${charged}
    WHERE subject = ${subject} AND period = ${period} RETURNING used_images, reserved_images`;
  return row;
}

/** Runs `work` in a transaction: a new one on the pool, or the caller's when `sql` already is one. */
function inTransaction<T>(sql: Queryable, work: (transaction: TransactionSql) => Promise<T>): Promise<T> {
  if ('savepoint' in sql) return work(sql);
  return sql.begin(work) as Promise<T>;
}
