import type { Logger } from 'pino';
import { isStorageFailure } from '../../errors/storage-unavailable.ts';
import {
  chargedJobEnding,
  type GenerationCharge,
  type GenerationWrites,
} from '../../generation/generation-writes.ts';
import type { SqliteGenerationStore } from '../../generation/sqlite/sqlite-generation-store.ts';
import type { JobRowWithHold } from '../../jobs/new-job-row.ts';
import type { SqliteJobRows } from '../../jobs/sqlite/sqlite-job-rows.ts';
import type { Reservation, ReservationRequest, UsageSummary } from '../../quota/quota-accounting.ts';
import type { SqliteQuotaLedger } from '../../quota/sqlite/sqlite-quota-ledger.ts';
import type { WriteBatcher } from '../write-batcher.ts';

/**
 * The request path's cross-store writes on SQLite: each is one write of the group-commit batcher, whose
 * transaction undoes a write that throws, so the quota hold and the job row, or the records, the charge and
 * the job's end, commit together or not at all, and concurrent requests share one commit.
 */
export class SqliteGenerationWrites implements GenerationWrites {
  readonly #writes: WriteBatcher;
  readonly #ledger: SqliteQuotaLedger;
  readonly #records: SqliteGenerationStore;
  readonly #jobs: SqliteJobRows;
  readonly #logger: Logger;
  readonly #now: () => Date;

  constructor(dependencies: {
    writes: WriteBatcher;
    ledger: SqliteQuotaLedger;
    records: SqliteGenerationStore;
    jobs: SqliteJobRows;
    logger: Logger;
    now: () => Date;
  }) {
    this.#writes = dependencies.writes;
    this.#ledger = dependencies.ledger;
    this.#records = dependencies.records;
    this.#jobs = dependencies.jobs;
    this.#logger = dependencies.logger;
    this.#now = dependencies.now;
  }

  hold(request: ReservationRequest, job: JobRowWithHold | undefined): Promise<Reservation | 'job-queued'> {
    return this.#writes.run(() => {
      // Counted and inserted in one statement, in this write transaction: exact across every process.
      if (job && this.#jobs.insertIfBelow(job.row, job.maxRunning) === 'queued') return 'job-queued';
      return this.#ledger.reserveInBatchedWrite(request);
    });
  }

  charge(charge: GenerationCharge): Promise<UsageSummary> {
    return this.#writes.run(() => {
      for (const record of charge.records) this.#records.insertNow(record);
      // Read in the same transaction: the standing reported is exactly the one just written.
      const usage = this.#ledger.commitInBatchedWrite(
        charge.reservation,
        charge.charge,
        charge.userLimit,
        charge.userDailyLimit,
      );
      if (charge.job)
        this.#jobs.finish(charge.job.id, chargedJobEnding(charge.job.result(usage)), this.#now());
      return usage;
    });
  }

  async release(reservationId: number): Promise<void> {
    try {
      this.#ledger.release(reservationId);
    } catch (error) {
      if (!isStorageFailure(error)) throw error;
      this.#logger.warn(
        { err: error, reservationId },
        'releasing a quota hold failed; it is retried once the disk takes writes',
      );
      void this.#writes
        .runEventually(() => this.#ledger.release(reservationId))
        .catch((retryError: unknown) => {
          this.#logger.error({ err: retryError, reservationId }, 'releasing a quota hold failed');
        });
    }
  }
}
