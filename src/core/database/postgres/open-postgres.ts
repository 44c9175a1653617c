import postgres, { type Sql } from 'postgres';
import { applyPostgresMigrations } from './apply-postgres-migrations.ts';

/** How to reach PostgreSQL: what `DATABASE_URL` and `DATABASE_POOL_SIZE` carry (`config.postgres`). */
export interface PostgresOptions {
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number | undefined;
}

/** The default pool: enough for a process's concurrent requests, well under PostgreSQL's 100 connections. */
export const defaultPoolSize = 10;

/** A pool on `url`, quiet (no NOTICE on stdout), with numbers and timestamps as JavaScript reads them. */
export function createPostgresPool(options: PostgresOptions): Sql {
  return postgres(options.url, {
    max: options.poolSize ?? defaultPoolSize,
    onnotice: () => {},
    // The application name shows in pg_stat_activity, so an operator can tell imagine's connections apart.
    connection: { application_name: 'imagine' },
  });
}

/** Opens the pool and applies pending migrations (under the advisory lock), as the service does at start. */
export async function openPostgres(options: PostgresOptions): Promise<Sql> {
  const sql = createPostgresPool(options);
  try {
    await applyPostgresMigrations(sql);
    return sql;
  } catch (error) {
    await sql.end();
    throw error;
  }
}
