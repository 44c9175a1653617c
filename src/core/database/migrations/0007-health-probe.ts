/**
 * One row `/health` rewrites on every check: a real write through the same group commit as requests, so a
 * database that cannot be written (a full disk, a read-only mount) is reported, not found by a request.
 */
export const healthProbeSchema = `
CREATE TABLE health_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  checked_at TEXT NOT NULL
);
`;
