/** Ledger reservations/s on PostgreSQL beside raw single-statement inserts over the same pool. */
import { defaultPoolSize, openPostgres } from '../src/core/database/postgres/open-postgres.ts';
import { PostgresQuotaStore } from '../src/core/quota/postgres/postgres-quota-store.ts';
import { QuotaLedger } from '../src/core/quota/quota-ledger.ts';
import { createPostgresTestDatabase } from '../src/test-support/postgres-test-database.ts';
import { benchReservation } from './ledger-benchmark.ts';

/** `count` operations by `workers` loops at once (one per pooled connection), as operations per second. */
async function timedConcurrently(
  count: number,
  workers: number,
  action: (index: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count) await action(next++);
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: workers }, worker));
  return count / ((performance.now() - startedAt) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Both sides share one pool (`DATABASE_POOL_SIZE`, default 10) on a fresh database, with as many loops as
 * connections: a reservation is one transaction (guarded upsert + the hold's row), the raw side one
 * autocommit INSERT. The sides alternate in rounds and the medians are reported, as on SQLite.
 */
export async function runPostgresLedgerBenchmark(operationsPerRound: number, rounds = 5) {
  const database = await createPostgresTestDatabase();
  const poolSize = Math.min(database.poolSize, Number(process.env.DATABASE_POOL_SIZE ?? defaultPoolSize));
  const sql = await openPostgres({ url: database.url, poolSize });
  try {
    await sql`CREATE TABLE raw_inserts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id text NOT NULL, images integer NOT NULL)`;
    const ledger = new QuotaLedger(new PostgresQuotaStore(sql));
    const insert = (index: number) =>
      sql`INSERT INTO raw_inserts (user_id, images) VALUES (${`user-${index % 100}`}, 1)`;
    const reserve = (index: number, budgetUsd: number | undefined) =>
      ledger.reserve(benchReservation(index, budgetUsd));
    const raw: number[] = [];
    const reservations: number[] = [];
    const withBudget: number[] = [];
    await timedConcurrently(500, poolSize, insert);
    await timedConcurrently(500, poolSize, (index) => reserve(index, undefined));
    for (let round = 0; round < rounds; round++) {
      raw.push(await timedConcurrently(operationsPerRound, poolSize, insert));
      reservations.push(
        await timedConcurrently(operationsPerRound, poolSize, (index) => reserve(index, undefined)),
      );
      // With MONTHLY_BUDGET_USD set every reservation also holds on the one budget row: it serialises.
      withBudget.push(
        await timedConcurrently(operationsPerRound, poolSize, (index) => reserve(index, 1_000_000)),
      );
    }
    const rawPerSecond = median(raw);
    return {
      engine: database.engine,
      poolSize,
      rawPerSecond,
      reservationsPerSecond: median(reservations),
      withBudgetPerSecond: median(withBudget),
      ratio: median(reservations) / rawPerSecond,
      withBudgetRatio: median(withBudget) / rawPerSecond,
    };
  } finally {
    await sql.end();
    await database.drop();
  }
}
