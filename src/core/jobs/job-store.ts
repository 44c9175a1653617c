import type { NewJobRow } from './new-job-row.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type JobDelivery = 'rest' | 'rest-async' | 'chat';

/** A generation as a durable row: what was asked, how it ends up with its caller, and how it went. */
export interface JobRecord {
  id: string;
  userId: string;
  kind: 'image' | 'batch';
  source: string;
  delivery: JobDelivery;
  /** The validated request, as JSON, so a recovered job can run again. */
  request: unknown;
  status: JobStatus;
  /** For REST jobs: the status and body the caller gets (the contract's response or error). */
  httpStatus: number | undefined;
  result: unknown;
  workerId: string;
  /** The provider's id for the job's work, once it exists (a Replicate prediction). */
  providerRequestId: string | undefined;
  /** How far the work has got, 0–1, when its provider reports it. */
  progress: number | undefined;
  heartbeatAt: Date;
  createdAt: Date;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
}

/** How a job ended; status, HTTP status and result are written by one statement. */
export interface JobEnding {
  status: 'succeeded' | 'failed' | 'cancelled';
  httpStatus?: number;
  result?: unknown;
}

/** A queued job to start under its user's running limit. */
export interface JobStart {
  id: string;
  userId: string;
  /** The user's limit of running jobs (MAX_JOBS_PER_USER), counted over every process and host. */
  maxRunning: number;
  /** The worker that will run it: the row is its from now on. */
  workerId: string;
  now: Date;
}

/** What `startIfBelow` did: started it, left it queued (the user is at the limit), or found it not queued. */
export type StartAttempt = 'started' | 'limit-reached' | 'not-queued';

/** Which abandoned jobs a survivor takes over. */
export interface JobClaim {
  /** The claiming worker: claimed rows are its own from the statement that claims them. */
  workerId: string;
  now: Date;
  /** A job whose heartbeat is older than this is abandoned (its worker stopped beating). */
  staleBefore: Date;
  /** Workers known to be gone already (a dead process on this host), claimed whatever their heartbeat. */
  goneWorkerIds?: readonly string[] | undefined;
  /** Only jobs with ids from this on (ids are time-ordered, so SQLite reads a range, not the table). */
  fromId?: string | undefined;
  /** At most this many, oldest first; all of them when unset. */
  limit?: number | undefined;
}

/** A job a survivor claimed: the row as claimed (its `workerId` is the claimer's) and whose it was. */
export interface ClaimedJob extends JobRecord {
  previousWorkerId: string;
}

/**
 * The jobs table, one engine per folder (`sqlite/`, `postgres/`); JobRunner decides when each call runs.
 * Every method is one atomic unit on its engine: `finish` writes status, HTTP status and result together;
 * `claimAbandoned` never hands one job to two claimers; `startIfBelow` and `insertIfBelow` never let a
 * user pass `maxRunning` running jobs, under any concurrency, across processes and hosts.
 */
export interface JobStore {
  /** Writes a new job row. */
  insert(job: NewJobRow): Promise<void>;
  /**
   * Writes a new job row running when fewer than `maxRunning` of its user's jobs are running, else queued
   * (`job.status` is ignored). Answers the status it got.
   */
  insertIfBelow(job: Omit<NewJobRow, 'status'>, maxRunning: number): Promise<'running' | 'queued'>;
  /** Moves a queued job to running, whatever the limit (the caller keeps its own line); false if not queued. */
  start(id: string, now: Date): Promise<boolean>;
  /** Moves a queued job to running, for `start.workerId`, only while its user is below `start.maxRunning`. */
  startIfBelow(start: JobStart): Promise<StartAttempt>;
  /** Notes the provider's id for a job's work. */
  setProviderRequest(id: string, providerRequestId: string): Promise<void>;
  /** Notes how far a running job's work has got, 0–1. */
  setProgress(id: string, progress: number): Promise<void>;
  /** Ends an unfinished job; false when there is no such job still unfinished. */
  finish(id: string, ending: JobEnding, now: Date): Promise<boolean>;
  /** Marks every unfinished job of this worker as alive. */
  heartbeat(workerId: string, now: Date): Promise<void>;
  /** Unfinished jobs with ids from `fromId` on, oldest first. */
  unfinishedFrom(fromId: string): Promise<JobRecord[]>;
  /** Takes an unfinished job over for this worker, running; false when it has finished. */
  adopt(id: string, workerId: string, now: Date): Promise<boolean>;
  /**
   * Claims unfinished jobs of other workers whose heartbeat is stale (or whose worker is known gone),
   * oldest first: each becomes `claim.workerId`'s, heartbeat `claim.now`, in the statement (PostgreSQL:
   * `FOR UPDATE SKIP LOCKED`) or transaction (SQLite: IMMEDIATE) that finds it, so concurrent claimers
   * never take the same job. Status is left as it was; the claimer adopts or finishes each.
   */
  claimAbandoned(claim: JobClaim): Promise<ClaimedJob[]>;
  /** A user's job. */
  get(id: string, userId: string): Promise<JobRecord | undefined>;
}
