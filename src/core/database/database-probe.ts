/** Checks that the database can be read and written, for `/health`. */
export type DatabaseProbe = () => Promise<boolean>;

/** The database's own health check, one engine per folder (`sqlite/`, `postgres/`). */
export interface HealthStore {
  /** A real read and a real write, cheap enough for every `/health`; false, never a throw, when either fails. */
  probe(): Promise<boolean>;
}
