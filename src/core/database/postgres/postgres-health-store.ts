import type { Sql } from 'postgres';
import type { HealthStore } from '../database-probe.ts';

/**
 * How long `/health` waits for PostgreSQL. A load balancer's check usually gives up at 5 s; a server that
 * does not answer in 2 s is reported as down before then, instead of the check itself timing out.
 */
const probeDeadlineMs = 2_000;

/** `HealthStore` on PostgreSQL: one upsert that returns the row it wrote, through the pool. */
export class PostgresHealthStore implements HealthStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async probe(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), probeDeadlineMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.#touch(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #touch(): Promise<boolean> {
    try {
      const rows = await this.#sql`
        INSERT INTO health_probe (id, checked_at) VALUES (1, now())
        ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at
        RETURNING checked_at`;
      return rows.length === 1;
    } catch {
      return false;
    }
  }
}
