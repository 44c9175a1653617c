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

/**
 * A pool on `url`, quiet (no NOTICE on stdout), with numbers and timestamps as JavaScript reads them.
 *
 * Transactions (`sql.begin`, and `sql.reserve` for the group commit's) run on a pool of their own, `poolSize` connections that serve nothing else;
 * single statements on a second pool, half as many (at least one), so a process opens up to 1.5 × `poolSize`.
 * Nearly every request's writes are transactions (the group commits), so they keep the whole pool size. postgres.js
 * 3.4.9 pipelines queries onto busy connections, and a BEGIN that lands on one as the query filling its
 * pipeline is sent without the connection being reserved for it (porsager/postgres#823, #1189): the driver
 * then fails the transaction with UNSAFE_TRANSACTION, or, worse, hands the connection back to the pool
 * inside the open transaction, where unrelated statements run in it. On a pool that only runs transactions
 * a BEGIN always goes to an idle connection (a connection in a transaction takes no other query), so the
 * reservation is never skipped.
 */
export function createPostgresPool(options: PostgresOptions): Sql {
  const size = options.poolSize ?? defaultPoolSize;
  const sql = postgres(options.url, poolSettings(Math.max(1, Math.floor(size / 2))));
  const transactions = postgres(options.url, poolSettings(size));
  const endStatements = sql.end.bind(sql);
  sql.begin = transactions.begin.bind(transactions) as Sql['begin'];
  // A reserved connection is where the group commit runs its transactions (`PostgresWriteBatcher`).
  sql.reserve = transactions.reserve.bind(transactions);
  sql.end = async (endOptions) => {
    await Promise.all([endStatements(endOptions), transactions.end(endOptions)]);
  };
  return sql;
}

function poolSettings(connections: number) {
  return {
    max: connections,
    onnotice: () => {},
    // The application name shows in pg_stat_activity, so an operator can tell imagine's connections apart.
    connection: { application_name: 'imagine' },
  };
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
