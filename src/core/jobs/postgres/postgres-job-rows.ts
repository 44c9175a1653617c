import type { Sql, TransactionSql } from 'postgres';
import { resultText } from '../job-rows.ts';
import type { JobEnding, JobStart, StartAttempt } from '../job-store.ts';
import type { NewJobRow } from '../new-job-row.ts';

// The job-row writes of the request path, as functions of a `sql` that may be a transaction, so a caller
// can put a job's row in the same transaction as its quota hold or charge. `PostgresJobStore` calls them
// on the pool.

/** The pool, or a transaction on it. */
export type Queryable = Sql | TransactionSql;

// The per-user lock's first key, "jobs": advisory locks are one namespace per database, and the two-key
// form keeps these apart from the migration lock's one-key form.
const userJobsLockSpace = 0x6a6f6273;

/**
 * Serialises, until the transaction ends, every job start of one user that counts against the limit. Held
 * before the count is read, so the count a starter reads includes every start committed before it: the
 * next statement of a READ COMMITTED transaction sees what the lock's previous holder committed.
 */
export async function lockUserJobs(sql: TransactionSql, userId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${userJobsLockSpace}, hashtext(${userId}))`;
}

/** Writes a new job row. */
export async function insertJob(sql: Queryable, job: NewJobRow): Promise<void> {
  await sql`
    INSERT INTO jobs (id, user_id, kind, source, delivery, request, status, worker_id, heartbeat_at, created_at, started_at)
    VALUES (${job.id}, ${job.userId}, ${job.kind}, ${job.source}, ${job.delivery}, ${JSON.stringify(job.request)},
      ${job.status}, ${job.workerId}, ${job.now}, ${job.now}, ${job.status === 'running' ? job.now : null})`;
}

/**
 * Writes a new job row, running when fewer than `maxRunning` of its user's jobs are running, else queued;
 * answers the status it got. Takes the user's lock (`lockUserJobs`) for the rest of the transaction.
 */
export async function insertJobIfBelow(
  sql: TransactionSql,
  job: Omit<NewJobRow, 'status'>,
  maxRunning: number,
): Promise<'running' | 'queued'> {
  await lockUserJobs(sql, job.userId);
  const [row] = await sql<{ status: 'running' | 'queued' }[]>`
    INSERT INTO jobs (id, user_id, kind, source, delivery, request, status, worker_id, heartbeat_at, created_at, started_at)
    SELECT ${job.id}::text, ${job.userId}::text, ${job.kind}::text, ${job.source}::text, ${job.delivery}::text,
      ${JSON.stringify(job.request)}::text, CASE WHEN below THEN 'running' ELSE 'queued' END, ${job.workerId}::text,
      ${job.now}::timestamptz, ${job.now}::timestamptz, CASE WHEN below THEN ${job.now}::timestamptz END
    FROM (SELECT count(*) < ${maxRunning} AS below FROM jobs WHERE user_id = ${job.userId} AND status = 'running') AS c
    RETURNING status`;
  return row?.status ?? 'queued';
}

/** Moves a queued job to running, whatever the limit; false when it was not queued. */
export async function startJob(sql: Queryable, id: string, now: Date): Promise<boolean> {
  const rows = await sql`
    UPDATE jobs SET status = 'running', started_at = ${now}, heartbeat_at = ${now}
    WHERE id = ${id} AND status = 'queued' RETURNING 1`;
  return rows.length === 1;
}

/**
 * Moves a queued job to running, for `start.workerId`, only while fewer than `start.maxRunning` of its
 * user's jobs are running. Takes the user's lock (`lockUserJobs`) for the rest of the transaction.
 */
export async function startJobIfBelow(sql: TransactionSql, start: JobStart): Promise<StartAttempt> {
  await lockUserJobs(sql, start.userId);
  const started = await sql`
    UPDATE jobs SET status = 'running', started_at = ${start.now}, heartbeat_at = ${start.now},
      worker_id = ${start.workerId}
    WHERE id = ${start.id} AND user_id = ${start.userId} AND status = 'queued'
      AND (SELECT count(*) FROM jobs WHERE user_id = ${start.userId} AND status = 'running') < ${start.maxRunning}
    RETURNING 1`;
  if (started.length === 1) return 'started';
  const [row] = await sql<{ status: string }[]>`
    SELECT status FROM jobs WHERE id = ${start.id} AND user_id = ${start.userId}`;
  return row?.status === 'queued' ? 'limit-reached' : 'not-queued';
}

/** Ends an unfinished job, status, HTTP status and result in one statement; false when none was unfinished. */
export async function finishJob(sql: Queryable, id: string, ending: JobEnding, now: Date): Promise<boolean> {
  const rows = await sql`
    UPDATE jobs SET status = ${ending.status}, http_status = ${ending.httpStatus ?? null},
      result = ${resultText(ending.result)}, finished_at = ${now}
    WHERE id = ${id} AND status IN ('queued', 'running') RETURNING 1`;
  return rows.length === 1;
}
