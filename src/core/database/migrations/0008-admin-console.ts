/**
 * The operator console: admin API keys, console sessions (only a hash of the cookie's id is kept), an audit
 * trail of every admin change, and failed generations by model and provider (successes are the generations
 * table itself, so a failure rate needs only the failures).
 */
export const adminConsoleSchema = `
ALTER TABLE api_keys ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;

CREATE TABLE console_sessions (
  id_hash     TEXT PRIMARY KEY,
  key_id      TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE admin_audit (
  id          INTEGER PRIMARY KEY,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  target      TEXT NOT NULL,
  before_json TEXT,
  after_json  TEXT,
  created_at  TEXT NOT NULL
);

CREATE TABLE generation_failures (
  id          INTEGER PRIMARY KEY,
  user_id     TEXT NOT NULL,
  model       TEXT NOT NULL,
  provider    TEXT NOT NULL,
  code        TEXT NOT NULL,
  images      INTEGER NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX generation_failures_by_time ON generation_failures(created_at);
`;
