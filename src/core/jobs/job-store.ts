import { isoTimestamp } from '../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../database/open-database.ts';
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

interface JobRow {
  id: string;
  user_id: string;
  kind: 'image' | 'batch';
  source: string;
  delivery: JobDelivery;
  request: string;
  status: JobStatus;
  http_status: number | null;
  result: string | null;
  worker_id: string;
  provider_request_id: string | null;
  progress: number | null;
  heartbeat_at: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** The jobs table. Statements only; JobRunner decides when each runs. */
export class JobStore {
  readonly #statements;

  constructor(database: SqliteDatabase) {
    this.#statements = {
      insert: database.prepare<
        [string, string, string, string, string, string, string, string, string, string, string | null],
        void
      >(
        `INSERT INTO jobs (id, user_id, kind, source, delivery, request, status, worker_id, heartbeat_at, created_at, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      start: database.prepare<[string, string, string], void>(
        "UPDATE jobs SET status = 'running', started_at = ?, heartbeat_at = ? WHERE id = ? AND status = 'queued'",
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
      unfinishedFrom: database.prepare<[string], JobRow>(
        "SELECT * FROM jobs WHERE id >= ? AND status IN ('queued', 'running') ORDER BY id",
      ),
      byId: database.prepare<[string, string], JobRow>('SELECT * FROM jobs WHERE id = ? AND user_id = ?'),
    };
  }

  insert(job: NewJobRow): void {
    const at = isoTimestamp(job.now);
    this.#statements.insert.run(
      job.id,
      job.userId,
      job.kind,
      job.source,
      job.delivery,
      JSON.stringify(job.request),
      job.status,
      job.workerId,
      at,
      at,
      job.status === 'running' ? at : null,
    );
  }

  start(id: string, now: Date): void {
    const at = isoTimestamp(now);
    this.#statements.start.run(at, at, id);
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
  finish(
    id: string,
    outcome: { status: 'succeeded' | 'failed' | 'cancelled'; httpStatus?: number; result?: unknown },
    now: Date,
  ): boolean {
    return (
      this.#statements.finish.run(
        outcome.status,
        outcome.httpStatus ?? null,
        outcome.result === undefined ? null : JSON.stringify(outcome.result),
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
    return this.#statements.unfinishedFrom.all(fromId).map(fromRow);
  }

  /** Takes a stale job over for this worker, queued to run again. */
  adopt(id: string, workerId: string, now: Date): void {
    this.#statements.adopt.run(workerId, isoTimestamp(now), id);
  }

  get(id: string, userId: string): JobRecord | undefined {
    const row = this.#statements.byId.get(id, userId);
    return row ? fromRow(row) : undefined;
  }
}

function fromRow(row: JobRow): JobRecord {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind,
    source: row.source,
    delivery: row.delivery,
    request: JSON.parse(row.request) as unknown,
    status: row.status,
    httpStatus: row.http_status ?? undefined,
    result: row.result === null ? undefined : (JSON.parse(row.result) as unknown),
    workerId: row.worker_id,
    providerRequestId: row.provider_request_id ?? undefined,
    progress: row.progress ?? undefined,
    heartbeatAt: new Date(row.heartbeat_at),
    createdAt: new Date(row.created_at),
    startedAt: row.started_at ? new Date(row.started_at) : undefined,
    finishedAt: row.finished_at ? new Date(row.finished_at) : undefined,
  };
}
