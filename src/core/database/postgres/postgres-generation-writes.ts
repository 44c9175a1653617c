import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import {
  chargedJobEnding,
  type GenerationCharge,
  type GenerationWrites,
} from '../../generation/generation-writes.ts';
import { insertGenerationRecords } from '../../generation/postgres/postgres-generation-store.ts';
import type { JobRowWithHold } from '../../jobs/new-job-row.ts';
import { finishJob, insertJobIfBelow } from '../../jobs/postgres/postgres-job-rows.ts';
import { PostgresQuotaStore, type Queryable } from '../../quota/postgres/postgres-quota-store.ts';
import type { Reservation, ReservationRequest, UsageSummary } from '../../quota/quota-accounting.ts';
import { QuotaLedger } from '../../quota/quota-ledger.ts';
import type { PostgresWriteBatcher } from './postgres-write-batcher.ts';

/** How long a refused release waits before it is tried again; after the last, the abandoned-hold sweep has it. */
const releaseRetriesMs = [1_000, 5_000, 30_000];

/**
 * The request path's cross-store writes on PostgreSQL: each is one write of the group-commit batcher, so
 * the quota hold and the job row, or the records, the charge and the job's end, commit together in one
 * transaction, and concurrent requests share it. The ledger's rules run unchanged over the transaction.
 */
export class PostgresGenerationWrites implements GenerationWrites {
  readonly #sql: Sql;
  readonly #writes: PostgresWriteBatcher;
  readonly #logger: Logger;
  readonly #now: () => Date;

  constructor(dependencies: { sql: Sql; writes: PostgresWriteBatcher; logger: Logger; now: () => Date }) {
    this.#sql = dependencies.sql;
    this.#writes = dependencies.writes;
    this.#logger = dependencies.logger;
    this.#now = dependencies.now;
  }

  hold(request: ReservationRequest, job: JobRowWithHold | undefined): Promise<Reservation | 'job-queued'> {
    return this.#writes.run(async (transaction) => {
      // Under the user's advisory lock until the group commits: exact across every process and host.
      if (job && (await insertJobIfBelow(transaction, job.row, job.maxRunning)) === 'queued') {
        return 'job-queued';
      }
      return this.#ledgerOn(transaction).reserve(request);
    }, request.userId);
  }

  charge(charge: GenerationCharge): Promise<UsageSummary> {
    return this.#writes.run(async (transaction) => {
      await insertGenerationRecords(transaction, charge.records);
      // Read in the same transaction: the standing reported is exactly the one just written.
      const usage = await this.#ledgerOn(transaction).commitAndReport(
        charge.reservation,
        charge.charge,
        charge.userLimit,
        charge.userDailyLimit,
      );
      if (charge.job) {
        await finishJob(transaction, charge.job.id, chargedJobEnding(charge.job.result(usage)), this.#now());
      }
      return usage;
    }, charge.reservation.userId);
  }

  async release(reservationId: number): Promise<void> {
    try {
      await this.#ledgerOn(this.#sql).release(reservationId);
    } catch (error) {
      // The caller hears its own error at once; the release is tried again behind it.
      this.#logger.warn({ err: error, reservationId }, 'releasing a quota hold failed; retrying');
      void this.#retryRelease(reservationId);
    }
  }

  async #retryRelease(reservationId: number): Promise<void> {
    for (const waitMs of releaseRetriesMs) {
      await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
      try {
        await this.#ledgerOn(this.#sql).release(reservationId);
        return;
      } catch (error) {
        this.#logger.warn({ err: error, reservationId }, 'releasing a quota hold failed again');
      }
    }
    this.#logger.error(
      { reservationId },
      'a quota hold could not be released; the abandoned-hold sweep will',
    );
  }

  #ledgerOn(sql: Queryable): QuotaLedger {
    return new QuotaLedger(new PostgresQuotaStore(sql), this.#now);
  }
}
