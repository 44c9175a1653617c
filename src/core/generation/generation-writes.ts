import type { KeptResult } from '../jobs/job-runner.ts';
import type { JobEnding } from '../jobs/job-store.ts';
import type { JobRowWithHold } from '../jobs/new-job-row.ts';
import type { Reservation, ReservationRequest, UsageSummary } from '../quota/quota-accounting.ts';
import type { Charge } from '../quota/quota-store.ts';
import type { GenerationRecord } from './generation-records.ts';

/** How a job whose images were charged ends: succeeded, keeping `kept` (201 with no body when nothing is). */
export function chargedJobEnding(kept: KeptResult | undefined): JobEnding {
  return { status: 'succeeded', httpStatus: kept?.httpStatus ?? 201, result: kept?.result };
}

/** What a generation's charge writes, all in one commit. */
export interface GenerationCharge {
  reservation: Reservation;
  /** The delivered images' records. */
  records: readonly GenerationRecord[];
  charge: Charge;
  /** The user's limits, for the standing the charge answers. */
  userLimit: number;
  userDailyLimit: number | undefined;
  /**
   * The job this generation runs as: it ends succeeded in the charge's commit, keeping what `result` makes
   * of the standing (the body a polled or repeated request gets), so a job is never succeeded without it.
   */
  job?: { id: string; result(usage: UsageSummary): KeptResult | undefined } | undefined;
}

/**
 * The request path's writes that span stores, on the configured engine: each is one atomic unit, and units
 * queued at the same time share one commit (group commit on both engines). The generator calls nothing else
 * to write, so it does not know which engine it runs on.
 */
export interface GenerationWrites {
  /**
   * Holds quota for a generation, all or nothing (the refusal is the quota error), and when `job` is given
   * inserts its row in the same commit: a refusal leaves no row. The row is counted against its user's
   * running jobs there (every process's): at the limit it goes in queued and no quota is held, answered
   * `'job-queued'`; the job holds again, without a row, once it has started.
   */
  hold(request: ReservationRequest, job: JobRowWithHold | undefined): Promise<Reservation | 'job-queued'>;
  /**
   * Records the images, charges them and gives back the rest of the hold, and ends the job, in one commit.
   * Answers the user's standing after the charge, read in that commit. Throws `generation_failed` when the
   * hold is gone (recovery or the sweeper gave it back, and may be removing its images): nothing is
   * written then.
   */
  charge(charge: GenerationCharge): Promise<UsageSummary>;
  /**
   * Gives a hold back (nothing was delivered). When the database refuses the write now (a full disk), it
   * is kept and lands with the first commit the database takes; this never throws for that.
   */
  release(reservationId: number): Promise<void>;
}
