import type { TransactionSql } from 'postgres';
import type { Queryable } from '../../database/postgres/queryable.ts';
import {
  assertChargeable,
  budgetSubject,
  type ReservationRequest,
  userSubject,
} from '../quota-accounting.ts';
import { type CounterRow, counterFromRow, type HeldRow, heldReservation } from '../quota-rows.ts';
import type { Charge, HeldReservation, QuotaCounter, QuotaStore, SettledHold } from '../quota-store.ts';
import {
  holdOutcome,
  holdStatement,
  holdsMonthOnly,
  settleHold,
  settleOutcome,
} from './postgres-quota-statements.ts';

/**
 * `QuotaStore` on PostgreSQL (the `postgres` driver's pool). A hold is one statement of guarded upserts, the
 * same guards as on SQLite: `INSERT … ON CONFLICT DO UPDATE … WHERE used + reserved + n <= limit` takes the
 * counter row's lock before it evaluates the guard against the latest committed row, so two holds on one
 * counter queue on that row instead of both reading the old sum — no read-then-write race, under any
 * concurrency. Counters are always locked in one order (user month, user day, scope, budget), so holds and
 * settles never deadlock each other. The statements are in `postgres-quota-statements.ts`, where the
 * request path's writes also take them to share a statement with a job row or records.
 */
export class PostgresQuotaStore implements QuotaStore {
  readonly #sql: Queryable;

  /** On the pool, or on a caller's transaction (a group commit), whose commit then carries every write. */
  constructor(sql: Queryable) {
    this.#sql = sql;
  }

  async hold(request: ReservationRequest, now: Date): Promise<{ id: number; period: string }> {
    const hold = async (sql: Queryable) => {
      const [row] = await holdStatement(sql, request, now);
      const outcome = await holdOutcome(sql, request, now, row);
      if (outcome === 'job-queued') throw new Error('a hold without a job row cannot be queued');
      return outcome;
    };
    // A month-only hold is one guarded upsert feeding the reservation's insert: a refusal changes nothing,
    // so it runs in autocommit. A longer chain may have moved a counter before a later limit refused: the
    // refusal thrown inside the transaction rolls that back.
    return holdsMonthOnly(request) ? hold(this.#sql) : inTransaction(this.#sql, hold);
  }

  async settle(reservationId: number, charge: Charge): Promise<SettledHold | undefined> {
    assertChargeable(charge);
    // One statement: the hold's removal and every counter it charges commit together or not at all.
    const row = await settleHold(this.#sql, reservationId, charge);
    return settleOutcome(this.#sql, reservationId, charge, row);
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

/** Runs `work` in a transaction: a new one on the pool, or the caller's when `sql` already is one. */
function inTransaction<T>(sql: Queryable, work: (transaction: TransactionSql) => Promise<T>): Promise<T> {
  if ('savepoint' in sql) return work(sql);
  return sql.begin(work) as Promise<T>;
}
