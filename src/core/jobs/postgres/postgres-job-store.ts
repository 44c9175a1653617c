import type { Sql } from 'postgres';
import { type ClaimedJobRow, claimedJobFromRow, type JobRow, jobFromRow } from '../job-rows.ts';
import type {
  ClaimedJob,
  JobClaim,
  JobEnding,
  JobRecord,
  JobStart,
  JobStore,
  StartAttempt,
} from '../job-store.ts';
import type { NewJobRow } from '../new-job-row.ts';
import { finishJob, insertJob, insertJobIfBelow, startJob, startJobIfBelow } from './postgres-job-rows.ts';

/**
 * `JobStore` on PostgreSQL (the `postgres` driver's pool). Each method is one statement, or one transaction
 * where a start must be counted against the user's limit under the user's advisory lock; the request
 * path's writes are also exported as functions of a transaction (`postgres-job-rows.ts`).
 */
export class PostgresJobStore implements JobStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  insert(job: NewJobRow): Promise<void> {
    return insertJob(this.#sql, job);
  }

  insertIfBelow(job: Omit<NewJobRow, 'status'>, maxRunning: number): Promise<'running' | 'queued'> {
    return this.#sql.begin((sql) => insertJobIfBelow(sql, job, maxRunning));
  }

  start(id: string, now: Date): Promise<boolean> {
    return startJob(this.#sql, id, now);
  }

  startIfBelow(start: JobStart): Promise<StartAttempt> {
    return this.#sql.begin((sql) => startJobIfBelow(sql, start));
  }

  async setProviderRequest(id: string, providerRequestId: string): Promise<void> {
    await this.#sql`UPDATE jobs SET provider_request_id = ${providerRequestId} WHERE id = ${id}`;
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.#sql`UPDATE jobs SET progress = ${progress} WHERE id = ${id} AND status = 'running'`;
  }

  finish(id: string, ending: JobEnding, now: Date): Promise<boolean> {
    return finishJob(this.#sql, id, ending, now);
  }

  async heartbeat(workerId: string, now: Date): Promise<void> {
    // Rows a group commit holds (a job starting or ending) are skipped, not waited for: waiting would lock
    // this worker's jobs in another order than the group does, a deadlock; they beat again next time.
    await this.#sql`
      UPDATE jobs SET heartbeat_at = ${now}
      WHERE id IN (
        SELECT id FROM jobs WHERE worker_id = ${workerId} AND status IN ('queued', 'running')
        FOR UPDATE SKIP LOCKED
      )`;
  }

  async unfinishedFrom(fromId: string): Promise<JobRecord[]> {
    const rows = await this.#sql<JobRow[]>`
      SELECT * FROM jobs WHERE id >= ${fromId} AND status IN ('queued', 'running') ORDER BY id`;
    return rows.map(jobFromRow);
  }

  async adopt(id: string, workerId: string, now: Date): Promise<boolean> {
    const rows = await this.#sql`
      UPDATE jobs SET worker_id = ${workerId}, heartbeat_at = ${now}, status = 'running'
      WHERE id = ${id} AND status IN ('queued', 'running') RETURNING 1`;
    return rows.length === 1;
  }

  /**
   * One statement: the inner SELECT locks what it finds and skips rows another claimer has locked, and the
   * UPDATE makes them this worker's before the locks go. A row another claimer took and committed since
   * this statement's snapshot is re-read when locked, and its fresh heartbeat no longer matches.
   */
  async claimAbandoned(claim: JobClaim): Promise<ClaimedJob[]> {
    const rows = await this.#sql<ClaimedJobRow[]>`
      UPDATE jobs AS j SET worker_id = ${claim.workerId}, heartbeat_at = ${claim.now}
      FROM (
        SELECT id, worker_id FROM jobs
        WHERE id >= ${claim.fromId ?? ''} AND status IN ('queued', 'running') AND worker_id <> ${claim.workerId}
          AND (heartbeat_at < ${claim.staleBefore} OR worker_id = ANY(${[...(claim.goneWorkerIds ?? [])]}::text[]))
        ORDER BY id
        LIMIT ${claim.limit ?? null}
        FOR UPDATE SKIP LOCKED
      ) AS stale
      WHERE j.id = stale.id
      RETURNING j.*, stale.worker_id AS previous_worker_id`;
    return rows.map(claimedJobFromRow).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async get(id: string, userId: string): Promise<JobRecord | undefined> {
    const [row] = await this.#sql<JobRow[]>`SELECT * FROM jobs WHERE id = ${id} AND user_id = ${userId}`;
    return row ? jobFromRow(row) : undefined;
  }
}
