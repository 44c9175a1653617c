/** The quota ledger's tables, as SQLite's (migrations 1, 3, 5 and 10 there) folded into one. */
export const quotaSchema = `
-- One row per subject (user:<id>, scope:<key>, budget) and period (YYYY-MM, or YYYY-MM-DD for a daily
-- allowance): a hold is a guarded upsert of this row, whose row lock serialises holds on the same counter.
CREATE TABLE quota_counters (
  subject          text NOT NULL,
  period           text NOT NULL,
  used_images      integer NOT NULL DEFAULT 0,
  reserved_images  integer NOT NULL DEFAULT 0,
  spent_usd        double precision NOT NULL DEFAULT 0,
  reserved_usd     double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (subject, period)
);

-- A hold while a generation runs; settling deletes it, so the table holds only work in flight.
CREATE TABLE reservations (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id          text NOT NULL,
  scope_key        text,
  period           text NOT NULL,
  day              text,
  images           integer NOT NULL,
  estimated_usd    double precision NOT NULL,
  held_usd         double precision NOT NULL,
  created_at       timestamptz NOT NULL,
  job_id           text,
  image_ids        text,
  -- A counter the charge is also added to when the hold settles (a chat place's images per person).
  tally            text
);
CREATE INDEX reservations_created_at ON reservations (created_at);
CREATE INDEX reservations_job_id ON reservations (job_id) WHERE job_id IS NOT NULL;
`;
