import type { TransactionSql } from 'postgres';
import { namedStatement, runNamed } from '../../database/postgres/named-statement.ts';
import { type AdvisoryLock, takeAdvisoryLocks } from '../../database/postgres/postgres-write-batcher.ts';
import type { Queryable } from '../../database/postgres/queryable.ts';
import { resultText } from '../job-rows.ts';
import type { JobEnding, JobStart, StartAttempt } from '../job-store.ts';
import type { NewJobRow } from '../new-job-row.ts';

// The job-row writes of the request path, as functions of a `sql` that may be a transaction, so a caller
// can put a job's row in the same transaction as its quota hold or charge. `PostgresJobStore` calls them
// on the pool.

// The per-user lock's first key, "jobs": advisory locks are one namespace per database, and the two-key
// form keeps these apart from the migration lock's one-key form.
const userJobsLockSpace = 0x6a6f6273;

/**
 * Serialises, until the transaction ends, every job start of one user that counts against the limit. Held
 * before the count is read, so the count a starter reads includes every start committed before it: the
 * next statement of a READ COMMITTED transaction sees what the lock's previous holder committed.
 */
export async function lockUserJobs(sql: TransactionSql, userId: string): Promise<void> {
  await takeAdvisoryLocks(sql, [userJobsLock(userId)]);
}

/** `lockUserJobs`'s lock, for a write of the group commit to name: the group takes it for the write. */
export function userJobsLock(userId: string): AdvisoryLock {
  return { space: userJobsLockSpace, key: userId };
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
  const [row] = await runNamed<{ status: 'running' | 'queued' }>(
    sql,
    insertIfBelowStatement,
    jobIfBelowValues(job, maxRunning),
  );
  return row?.status ?? 'queued';
}

/**
 * `insertJobIfBelow`'s insert as a CTE named `job` answering its `status` (values: `jobIfBelowValues`),
 * for a statement that writes more after it (the quota hold). The statement must come after
 * `lockUserJobs` in the transaction, not contain it: a statement reads the snapshot it started with, so
 * only a statement after the lock sees every start its previous holder committed (send both at once: one
 * round trip).
 */
export const jobIfBelowCte = `job AS (
    INSERT INTO jobs (id, user_id, kind, source, delivery, request, status, worker_id, heartbeat_at, created_at, started_at)
    SELECT {job_id}::text, {job_user}::text, {job_kind}::text, {job_source}::text, {job_delivery}::text,
      {job_request}::text, CASE WHEN below THEN 'running' ELSE 'queued' END, {job_worker}::text,
      {job_now}::timestamptz, {job_now}::timestamptz, CASE WHEN below THEN {job_now}::timestamptz END
    FROM (SELECT count(*) < {job_max}::int AS below FROM jobs WHERE user_id = {job_user}::text AND status = 'running') AS c
    RETURNING status
  )`;

/** The values `jobIfBelowCte` names. */
export function jobIfBelowValues(
  job: Omit<NewJobRow, 'status'>,
  maxRunning: number,
): Record<string, unknown> {
  return {
    job_id: job.id,
    job_user: job.userId,
    job_kind: job.kind,
    job_source: job.source,
    job_delivery: job.delivery,
    job_request: JSON.stringify(job.request),
    job_worker: job.workerId,
    job_now: job.now,
    job_max: maxRunning,
  };
}

const insertIfBelowStatement = namedStatement(`WITH ${jobIfBelowCte} SELECT status FROM job`);

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

/**
 * A job's end as a CTE named `ended` (a row when the job was unfinished; values: `finishJobValues`): for
 * `finishJob`, and for the statement that writes the job's end with the charge that ends it.
 */
export const finishJobCte = `ended AS (
    UPDATE jobs SET status = {end_status}::text, http_status = {end_http}::int, result = {end_result}::text,
      finished_at = {end_now}::timestamptz
    WHERE id = {end_id}::text AND status IN ('queued', 'running') RETURNING 1
  )`;

/** The values `finishJobCte` names. */
export function finishJobValues(id: string, ending: JobEnding, now: Date): Record<string, unknown> {
  return {
    end_id: id,
    end_status: ending.status,
    end_http: ending.httpStatus ?? null,
    end_result: resultText(ending.result),
    end_now: now,
  };
}

const finishStatement = namedStatement(`WITH ${finishJobCte} SELECT EXISTS (SELECT 1 FROM ended) AS ended`);

/** Ends an unfinished job, status, HTTP status and result in one statement; false when none was unfinished. */
export async function finishJob(sql: Queryable, id: string, ending: JobEnding, now: Date): Promise<boolean> {
  const [row] = await runNamed<{ ended: boolean }>(sql, finishStatement, finishJobValues(id, ending, now));
  return row?.ended === true;
}

/** Replaces an ended job's HTTP status and kept result (written after its end, in the same transaction). */
export async function keepJobResult(sql: Queryable, id: string, ending: JobEnding): Promise<void> {
  await sql`
    UPDATE jobs SET http_status = ${ending.httpStatus ?? null}, result = ${resultText(ending.result)}
    WHERE id = ${id}`;
}
