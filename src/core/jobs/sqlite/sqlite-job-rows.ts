import { isoTimestamp } from '../../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import { type ClaimedJobRow, claimedJobFromRow, type JobRow, jobFromRow, resultText } from '../job-rows.ts';
import type { ClaimedJob, JobClaim, JobEnding, JobRecord, JobStart, StartAttempt } from '../job-store.ts';
import type { NewJobRow } from '../new-job-row.ts';

/**
 * The jobs table's statements on SQLite, synchronous, so they can run inside a transaction someone else
 * opened: the group-commit batcher's, or the generator's charge. `SqliteJobStore` puts them behind the
 * engine-neutral `JobStore`. Inside a write transaction every answer is exact: SQLite lets one writer in
 * at a time, across every process sharing the file.
 */
export class SqliteJobRows {
  readonly #database: SqliteDatabase;
  readonly #statements;
  readonly #claim: (claim: JobClaim) => ClaimedJob[];

  constructor(database: SqliteDatabase) {
    this.#database = database;
    this.#statements = {
      insert: database.prepare<
        [string, string, string, string, string, string, string, string, string, string, string | null],
        void
      >(
        `INSERT INTO jobs (id, user_id, kind, source, delivery, request, status, worker_id, heartbeat_at, created_at, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      // A user's running jobs, through the partial index of running jobs (migration 0015).
      runningCount: database
        .prepare<[string], number>("SELECT count(*) FROM jobs WHERE user_id = ? AND status = 'running'")
        .pluck(),
      start: database.prepare<[string, string, string], void>(
        "UPDATE jobs SET status = 'running', started_at = ?, heartbeat_at = ? WHERE id = ? AND status = 'queued'",
      ),
      startIfBelow: database.prepare<
        [{ id: string; userId: string; workerId: string; at: string; maxRunning: number }],
        void
      >(
        `UPDATE jobs SET status = 'running', started_at = @at, heartbeat_at = @at, worker_id = @workerId
         WHERE id = @id AND user_id = @userId AND status = 'queued'
           AND (SELECT count(*) FROM jobs WHERE user_id = @userId AND status = 'running') < @maxRunning`,
      ),
      statusOf: database.prepare<[string, string], { status: string }>(
        'SELECT status FROM jobs WHERE id = ? AND user_id = ?',
      ),
      finish: database.prepare<[string, number | null, string | null, string, string], void>(
        `UPDATE jobs SET status = ?, http_status = ?, result = ?, finished_at = ?
         WHERE id = ? AND status IN ('queued', 'running')`,
      ),
      progress: database.prepare<[number, string], void>(
        "UPDATE jobs SET progress = ? WHERE id = ? AND status = 'running'",
      ),
      providerRequest: database.prepare<[string, string], void>(
        'UPDATE jobs SET provider_request_id = ? WHERE id = ?',
      ),
      heartbeat: database.prepare<[string, string], void>(
        "UPDATE jobs SET heartbeat_at = ? WHERE worker_id = ? AND status IN ('queued', 'running')",
      ),
      adopt: database.prepare<[string, string, string], void>(
        "UPDATE jobs SET worker_id = ?, heartbeat_at = ?, status = 'running' WHERE id = ? AND status IN ('queued', 'running')",
      ),
      abandoned: database.prepare<
        [{ fromId: string; workerId: string; staleBefore: string; gone: string; limit: number }],
        JobRow
      >(
        `SELECT * FROM jobs
         WHERE id >= @fromId AND status IN ('queued', 'running') AND worker_id <> @workerId
           AND (heartbeat_at < @staleBefore OR worker_id IN (SELECT value FROM json_each(@gone)))
         ORDER BY id LIMIT @limit`,
      ),
      claim: database.prepare<[string, string, string], void>(
        'UPDATE jobs SET worker_id = ?, heartbeat_at = ? WHERE id = ?',
      ),
      unfinishedFrom: database.prepare<[string], JobRow>(
        "SELECT * FROM jobs WHERE id >= ? AND status IN ('queued', 'running') ORDER BY id",
      ),
      byId: database.prepare<[string, string], JobRow>('SELECT * FROM jobs WHERE id = ? AND user_id = ?'),
    };
    // Its own IMMEDIATE transaction (a savepoint inside one already open): what is found is claimed
    // before any other writer can look.
    this.#claim = database.transaction((claim: JobClaim): ClaimedJob[] => {
      const at = isoTimestamp(claim.now);
      const found = this.#statements.abandoned.all({
        fromId: claim.fromId ?? '',
        workerId: claim.workerId,
        staleBefore: isoTimestamp(claim.staleBefore),
        gone: JSON.stringify(claim.goneWorkerIds ?? []),
        limit: claim.limit ?? -1,
      });
      return found.map((row) => {
        this.#statements.claim.run(claim.workerId, at, row.id);
        const claimed: ClaimedJobRow = {
          ...row,
          worker_id: claim.workerId,
          heartbeat_at: at,
          previous_worker_id: row.worker_id,
        };
        return claimedJobFromRow(claimed);
      });
    }).immediate;
  }

  insert(job: NewJobRow): void {
    this.#insert(job, job.status);
  }

  /**
   * Inserts the job running when its user is below `maxRunning` running jobs, else queued. Call it inside a
   * write transaction (the group commit's): SQLite lets one writer in at a time, across every process
   * sharing the file, so no other insert comes between the count and this one. Two plain statements cost
   * about half of one INSERT … SELECT … RETURNING that does both (whose RETURNING alone costs SQLite a
   * scratch table per row).
   */
  insertIfBelow(job: Omit<NewJobRow, 'status'>, maxRunning: number): 'running' | 'queued' {
    if (!this.#database.inTransaction) throw new Error('insertIfBelow runs inside a write transaction');
    const status = (this.#statements.runningCount.get(job.userId) ?? 0) < maxRunning ? 'running' : 'queued';
    this.#insert(job, status);
    return status;
  }

  #insert(job: Omit<NewJobRow, 'status'>, status: NewJobRow['status']): void {
    const at = isoTimestamp(job.now);
    this.#statements.insert.run(
      job.id,
      job.userId,
      job.kind,
      job.source,
      job.delivery,
      JSON.stringify(job.request),
      status,
      job.workerId,
      at,
      at,
      status === 'running' ? at : null,
    );
  }

  /** Moves a queued job to running; false when it was not queued. */
  start(id: string, now: Date): boolean {
    const at = isoTimestamp(now);
    return this.#statements.start.run(at, at, id).changes === 1;
  }

  /** Moves a queued job to running while its user is below the limit: the count and the move are one statement. */
  startIfBelow(start: JobStart): StartAttempt {
    const { changes } = this.#statements.startIfBelow.run({
      id: start.id,
      userId: start.userId,
      workerId: start.workerId,
      at: isoTimestamp(start.now),
      maxRunning: start.maxRunning,
    });
    if (changes === 1) return 'started';
    return this.#statements.statusOf.get(start.id, start.userId)?.status === 'queued'
      ? 'limit-reached'
      : 'not-queued';
  }

  /** Notes the provider's id for a job's work. */
  setProviderRequest(id: string, providerRequestId: string): void {
    this.#statements.providerRequest.run(providerRequestId, id);
  }

  /** Notes how far a running job's work has got, 0–1. */
  setProgress(id: string, progress: number): void {
    this.#statements.progress.run(progress, id);
  }

  /** Ends an unfinished job; false when there is no such job still unfinished. */
  finish(id: string, ending: JobEnding, now: Date): boolean {
    return (
      this.#statements.finish.run(
        ending.status,
        ending.httpStatus ?? null,
        resultText(ending.result),
        isoTimestamp(now),
        id,
      ).changes === 1
    );
  }

  /** Marks every unfinished job of this worker as alive. */
  heartbeat(workerId: string, now: Date): void {
    this.#statements.heartbeat.run(isoTimestamp(now), workerId);
  }

  /** Unfinished jobs with ids from `fromId` on (ids are time-ordered, so this is a range scan). */
  unfinishedFrom(fromId: string): JobRecord[] {
    return this.#statements.unfinishedFrom.all(fromId).map(jobFromRow);
  }

  /** Takes an unfinished job over for this worker, running again; false when it has finished. */
  adopt(id: string, workerId: string, now: Date): boolean {
    return this.#statements.adopt.run(workerId, isoTimestamp(now), id).changes === 1;
  }

  /** Claims abandoned jobs for `claim.workerId` (see `JobStore.claimAbandoned`). */
  claimAbandoned(claim: JobClaim): ClaimedJob[] {
    return this.#claim(claim);
  }

  get(id: string, userId: string): JobRecord | undefined {
    const row = this.#statements.byId.get(id, userId);
    return row ? jobFromRow(row) : undefined;
  }
}
