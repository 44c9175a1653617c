/** What `/health` says of the database: ok, error (cannot be read or written now), damaged (until a restart). */
export type DatabaseHealth = 'ok' | 'error' | 'damaged';

/** Checks that the database can be read and written, for `/health`. */
export type DatabaseProbe = () => Promise<DatabaseHealth>;

/** The database's own health check, one engine per folder (`sqlite/`, `postgres/`). */
export interface HealthStore {
  /** A real read and a real write, cheap enough for every `/health`; false, never a throw, when either fails. */
  probe(): Promise<boolean>;
  /**
   * True once an integrity check found the database file damaged; it stays so until the process restarts.
   * Absent on an engine that has no file of its own to check (PostgreSQL).
   */
  damaged?(): boolean;
}
