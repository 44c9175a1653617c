import type { ClaimedJob, JobDelivery, JobRecord, JobStatus } from './job-store.ts';

// The jobs table's row as every engine reads it (the schemas match column for column), and the one mapping
// from a row to a `JobRecord`, so the engines cannot read a row differently. SQLite answers instants as ISO
// text, PostgreSQL's driver as `Date`; `new Date` takes either.

/** A `jobs` row. */
export interface JobRow {
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
  heartbeat_at: string | Date;
  created_at: string | Date;
  started_at: string | Date | null;
  finished_at: string | Date | null;
}

/** A claimed row, with the worker it was taken from. */
export interface ClaimedJobRow extends JobRow {
  previous_worker_id: string;
}

export function jobFromRow(row: JobRow): JobRecord {
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

export function claimedJobFromRow(row: ClaimedJobRow): ClaimedJob {
  return { ...jobFromRow(row), previousWorkerId: row.previous_worker_id };
}

/** A result as its column keeps it: JSON text, or NULL for none. */
export function resultText(result: unknown): string | null {
  return result === undefined ? null : JSON.stringify(result);
}
