import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import {
  chargedJobEnding,
  type GenerationCharge,
  type GenerationWrites,
} from '../../generation/generation-writes.ts';
import {
  generationRecordsCte,
  generationRecordsValues,
} from '../../generation/postgres/postgres-generation-store.ts';
import type { JobRowWithHold } from '../../jobs/new-job-row.ts';
import {
  finishJobCte,
  finishJobValues,
  jobIfBelowCte,
  jobIfBelowValues,
  keepJobResult,
  userJobsLock,
} from '../../jobs/postgres/postgres-job-rows.ts';
import {
  holdOutcome,
  holdStatement,
  type SettleRow,
  settleAnswers,
  settleCtesOf,
  settleOutcome,
  settleStepsFor,
  settleValues,
} from '../../quota/postgres/postgres-quota-statements.ts';
import { PostgresQuotaStore } from '../../quota/postgres/postgres-quota-store.ts';
import {
  assertChargeable,
  heldCounters,
  type Reservation,
  type ReservationRequest,
  type UsageSummary,
} from '../../quota/quota-accounting.ts';
import { QuotaLedger } from '../../quota/quota-ledger.ts';
import type { Charge } from '../../quota/quota-store.ts';
import { type NamedStatement, runNamed, StatementCache } from './named-statement.ts';
import type { PostgresWriteBatcher } from './postgres-write-batcher.ts';
import type { Queryable } from './queryable.ts';

/** What the charge's statement answers: the settle's row, and whether the job's end was written. */
type ChargeRow = SettleRow & { ended: boolean };

// The charge's statements, one a shape: records, settle (only the counters its hold moved) and, with a
// job, the job's end, as one statement.
const chargeStatements = new StatementCache();

function chargeStatement(reservation: Reservation, charge: Charge, withJobEnd: boolean): NamedStatement {
  const { steps, key } = settleStepsFor(reservation.moved, charge);
  return chargeStatements.get(`${key}${withJobEnd ? '+job' : ''}`, () =>
    withJobEnd
      ? `WITH ${generationRecordsCte}, ${settleCtesOf(steps)}, ${finishJobCte}
        SELECT ${settleAnswers}, EXISTS (SELECT 1 FROM ended) AS ended`
      : `WITH ${generationRecordsCte}, ${settleCtesOf(steps)} SELECT ${settleAnswers}, false AS ended`,
  );
}

/** How long a refused release waits before it is tried again; after the last, the abandoned-hold sweep has it. */
const releaseRetriesMs = [1_000, 5_000, 30_000];

/**
 * The request path's cross-store writes on PostgreSQL: each is one write of the group-commit batcher, so
 * the quota hold and the job row, or the records, the charge and the job's end, commit together in one
 * transaction, and concurrent requests share it. Each is also one round trip: the hold with its job row
 * is the advisory lock and one statement sent together, the charge one statement (the ledger's statements
 * are in `postgres-quota-statements.ts`), because on PostgreSQL a large share of the main thread's time is
 * the driver's work per statement (building it, writing it to the socket, reading its answer). The
 * ledger's rules (what is reservable, the standing a charge answers) still run in `QuotaLedger`.
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

  async hold(
    request: ReservationRequest,
    job: JobRowWithHold | undefined,
  ): Promise<Reservation | 'job-queued'> {
    const held = await this.#holdWrite(request, job);
    // The charge then settles only the counters this hold moved (`settleStepsFor`).
    return held === 'job-queued' ? held : { ...held, moved: heldCounters(request) };
  }

  #holdWrite(
    request: ReservationRequest,
    job: JobRowWithHold | undefined,
  ): Promise<Reservation | 'job-queued'> {
    if (!job) {
      return this.#writes.run((transaction) => this.#ledgerOn(transaction).reserve(request), request.userId);
    }
    return this.#writes.run(
      (transaction) =>
        this.#ledgerOn(transaction).reserveThrough(request, async (now) => {
          // The group takes the user's advisory lock first (held until it commits: exact across every
          // process and host), so this statement's count of the user's running jobs sees every start the
          // lock's previous holder committed. The hold is taken only when the row went in running.
          const [row] = await holdStatement(transaction, request, now, {
            text: jobIfBelowCte,
            values: jobIfBelowValues(job.row, job.maxRunning),
          });
          // A refusal throws, and the group undoes this write whole: the job row with the counters.
          return holdOutcome(transaction, request, now, row);
        }),
      request.userId,
      userJobsLock(job.row.userId),
    );
  }

  charge(charge: GenerationCharge): Promise<UsageSummary> {
    const { reservation, records, job } = charge;
    return this.#writes.run(async (transaction) => {
      assertChargeable(charge.charge);
      // One statement: the records, the settle and the job's end (its kept result, which quotes the
      // standing, follows below), so the whole charge costs one round trip.
      const recorded = generationRecordsValues(records);
      const settling = settleValues(reservation.id, charge.charge);
      const statement = chargeStatement(reservation, charge.charge, job !== undefined);
      const [row] = job
        ? await runNamed<ChargeRow>(
            transaction,
            statement,
            recorded,
            settling,
            finishJobValues(job.id, chargedJobEnding(undefined), this.#now()),
          )
        : await runNamed<ChargeRow>(transaction, statement, recorded, settling);
      const settled = await settleOutcome(transaction, reservation.id, charge.charge, row);
      // Read in the same transaction: the standing reported is exactly the one just written. Thrown when
      // the hold was gone; the group then undoes the records and the job's end with it.
      const usage = await this.#ledgerOn(transaction).reportSettled(
        reservation,
        settled,
        charge.userLimit,
        charge.userDailyLimit,
      );
      const kept = job?.result(usage);
      if (job && kept && row?.ended) await keepJobResult(transaction, job.id, chargedJobEnding(kept));
      return usage;
    }, reservation.userId);
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
