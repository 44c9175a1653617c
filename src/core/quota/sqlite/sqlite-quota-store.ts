import type { SqliteDatabase } from '../../database/open-database.ts';
import type { ReservationRequest } from '../quota-accounting.ts';
import type { Charge, HeldReservation, QuotaCounter, QuotaStore, SettledHold } from '../quota-store.ts';
import { SqliteQuotaEngine } from './sqlite-quota-engine.ts';

/**
 * `QuotaStore` on SQLite: the synchronous engine behind promises. Each call is one IMMEDIATE transaction,
 * which SQLite serialises across every process sharing the file.
 */
export class SqliteQuotaStore implements QuotaStore {
  readonly #engine: SqliteQuotaEngine;

  constructor(database: SqliteDatabase) {
    this.#engine = new SqliteQuotaEngine(database);
  }

  async hold(request: ReservationRequest, now: Date): Promise<{ id: number; period: string }> {
    return this.#engine.holdInTransaction(request, now);
  }

  async settle(reservationId: number, charge: Charge): Promise<SettledHold | undefined> {
    return this.#engine.settleInTransaction(reservationId, charge);
  }

  async counter(subject: string, period: string): Promise<QuotaCounter> {
    return this.#engine.counter(subject, period);
  }

  async heldBefore(before: Date): Promise<HeldReservation[]> {
    return this.#engine.heldBefore(before);
  }

  async heldForJob(jobId: string): Promise<HeldReservation[]> {
    return this.#engine.heldForJob(jobId);
  }

  async heldIds(): Promise<number[]> {
    return this.#engine.heldIds();
  }

  async refund(userId: string, period: string, charge: Charge): Promise<void> {
    this.#engine.refund(userId, period, charge);
  }
}
