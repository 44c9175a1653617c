/** Generations as durable jobs, the job that holds each quota reservation, and REST idempotency keys. */
export const jobsSchema = `
-- Keyed by the UUIDv7 id itself (appends, one b-tree). Rows stay small: a result is kept only for jobs
-- someone will ask about again (polled or idempotent).
CREATE TABLE jobs (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('image', 'batch')),
  source        TEXT NOT NULL,
  -- How the result reaches its caller: 'rest' (a waiting request), 'rest-async' (polled), 'chat'.
  delivery      TEXT NOT NULL,
  request       TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  http_status   INTEGER,
  result        TEXT,
  worker_id     TEXT NOT NULL,
  heartbeat_at  TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  started_at    TEXT,
  finished_at   TEXT
) WITHOUT ROWID;
-- No index on status: recovery scans ids from a watermark (ids are time-ordered), which costs nothing on
-- the request path, where every index would be written twice per job.

ALTER TABLE reservations ADD COLUMN job_id TEXT;

CREATE TABLE idempotency_keys (
  user_id       TEXT NOT NULL,
  key           TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  job_id        TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
`;
