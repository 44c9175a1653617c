/** Users, chat identities, link codes, API keys, the quota ledger and the generation records. */
export const initialSchema = `
CREATE TABLE users (
  id          TEXT PRIMARY KEY,
  plan        TEXT,
  created_at  TEXT NOT NULL
);

CREATE TABLE identities (
  identity    TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  linked_at   TEXT NOT NULL
);
CREATE INDEX identities_by_user ON identities(user_id);

CREATE TABLE link_codes (
  code_hash   TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at  TEXT NOT NULL,
  used_at     TEXT,
  used_by     TEXT
);

CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  prefix      TEXT NOT NULL UNIQUE,
  key_hash    TEXT NOT NULL UNIQUE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label       TEXT,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);

-- One row per quota subject (user:<id>, scope:<key>, budget) and month. Reserving is one guarded UPDATE,
-- so concurrent requests (and processes) can never push used + reserved past the limit.
CREATE TABLE quota_counters (
  subject        TEXT NOT NULL,
  period         TEXT NOT NULL,
  used_images    INTEGER NOT NULL DEFAULT 0,
  reserved_images INTEGER NOT NULL DEFAULT 0,
  spent_usd      REAL NOT NULL DEFAULT 0,
  reserved_usd   REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (subject, period)
) WITHOUT ROWID;

-- A quota hold while a generation runs. Settling deletes it: the counters keep the totals and generations
-- what was delivered, so this table holds only work in flight (and holds a crash abandoned), stays a few
-- pages small, and is cheap to append to and sweep.
CREATE TABLE reservations (
  id              INTEGER PRIMARY KEY,
  user_id         TEXT NOT NULL,
  scope_key       TEXT,
  period          TEXT NOT NULL,
  images          INTEGER NOT NULL,
  estimated_usd   REAL NOT NULL,
  held_usd        REAL NOT NULL,  -- what was held against the monthly budget (0 when none is set)
  created_at      TEXT NOT NULL
);

-- The public id is a UUIDv7 (unguessable, and sorted by time); the rowid stays the table's key so new rows
-- append, and one index serves a user's lookups and history pages alike.
CREATE TABLE generations (
  row_id              INTEGER PRIMARY KEY,
  id                  TEXT NOT NULL,
  user_id             TEXT NOT NULL,
  batch_id            TEXT,
  source              TEXT NOT NULL,
  prompt              TEXT NOT NULL,
  prompt_used         TEXT NOT NULL,
  negative_prompt     TEXT,
  style               TEXT,
  model               TEXT NOT NULL,
  seed                INTEGER,
  width               INTEGER NOT NULL,
  height              INTEGER NOT NULL,
  quality             TEXT NOT NULL,
  cost_usd            REAL NOT NULL,
  generation_ms       INTEGER NOT NULL,
  storage_key         TEXT NOT NULL,
  image_url           TEXT NOT NULL,
  content_type        TEXT NOT NULL,
  provider_request_id TEXT,
  warnings            TEXT NOT NULL DEFAULT '[]',
  created_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX generations_by_user ON generations(user_id, id);
`;
