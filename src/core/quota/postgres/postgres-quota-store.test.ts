import type { Sql } from 'postgres';
import { afterAll, beforeAll } from 'vitest';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
} from '../../../test-support/postgres-test-database.ts';
import { openPostgres } from '../../database/postgres/open-postgres.ts';
import { runQuotaStoreContract } from '../quota-store.contract.ts';
import { PostgresQuotaStore } from './postgres-quota-store.ts';

// Starting PGlite (WebAssembly) takes seconds on a small machine: a start-up cost, not a race.
const startUpMs = 60_000;

/** The contract on one fresh PostgreSQL database, migrated as the service would; each case starts empty. */
function runOn(label: string, engine: 'auto' | 'pglite'): void {
  let database: PostgresTestDatabase;
  let sql: Sql;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ engine });
    sql = await openPostgres({ url: database.url, poolSize: database.poolSize });
  }, startUpMs);
  afterAll(async () => {
    await sql.end();
    await database.drop();
  });
  runQuotaStoreContract(label, async () => {
    await sql`TRUNCATE quota_counters, reservations RESTART IDENTITY`;
    return { store: new PostgresQuotaStore(sql), close: async () => {} };
  });
}

// The server when one answers at 127.0.0.1:5432, PGlite when not; and PGlite always, so the fallback a
// machine without PostgreSQL takes is proven here too.
runOn('PostgreSQL', 'auto');
runOn('PGlite', 'pglite');
