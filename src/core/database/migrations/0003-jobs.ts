/** Generations as durable jobs, the job that holds each quota reservation, and REST idempotency keys. */
export const jobsSchema = `
-- Rowid table: rows carry the request and result JSON, too big for a WITHOUT ROWID b-tree to stay fast.
CREATE TABLE jobs (
  row_id        INTEGER PRIMARY KEY,
  id            TEXT NOT NULL UNIQUE,
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
);
CREATE INDEX jobs_unfinished ON jobs(status, heartbeat_at) WHERE status IN ('queued', 'running');

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
