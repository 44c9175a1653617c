/**
 * Runs a store's contract suite on every engine: SQLite (a WAL file, as the service runs it), PostgreSQL
 * (the server at 127.0.0.1:5432 when one answers, else PGlite) and PGlite always, so the fallback a machine
 * without PostgreSQL takes is proven too. Each case opens the stores on an empty database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../core/database/open-database.ts';
import { openPostgres } from '../core/database/postgres/open-postgres.ts';
import { openPostgresStores } from '../core/database/postgres/postgres-stores.ts';
import { openSqliteStores } from '../core/database/sqlite/sqlite-stores.ts';
import type { StoreEngineName, Stores } from '../core/database/stores.ts';
import { WriteBatcher } from '../core/database/write-batcher.ts';
import { createPostgresTestDatabase, type PostgresTestDatabase } from './postgres-test-database.ts';

/** The database under the stores, for seeding rows that another family's store owns (`seed-rows.ts`). */
export type RawDatabase = { engine: 'sqlite'; database: SqliteDatabase } | { engine: 'postgres'; sql: Sql };

/** The stores of one case, on an empty database, and how to close them. */
export interface StoresUnderTest {
  stores: Stores;
  engine: StoreEngineName;
  raw: RawDatabase;
  close(): Promise<void>;
}

/** Opens the stores on an empty database, with `now` as their clock. */
export type OpenStores = (now?: () => Date) => Promise<StoresUnderTest>;

// Starting PGlite (WebAssembly) takes seconds on a small machine: a start-up cost, not a race.
const startUpMs = 60_000;

/** Calls `suite` once per engine, inside a `describe` named for it. */
export function onEveryStoreEngine(suite: (engine: string, open: OpenStores) => void): void {
  describe('SQLite', () => {
    suite('SQLite', async (now = () => new Date()) => {
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-stores-'));
      const database = openDatabase(path.join(folder, 'imagine.sqlite'));
      const writes = new WriteBatcher(database);
      return {
        stores: openSqliteStores({ database, writes, now }),
        engine: 'sqlite',
        raw: { engine: 'sqlite', database },
        close: async () => {
          writes.flushNow();
          database.close();
          fs.rmSync(folder, { recursive: true, force: true });
        },
      };
    });
  });
  onPostgres('PostgreSQL', 'auto', suite);
  onPostgres('PGlite', 'pglite', suite);
}

function onPostgres(
  label: string,
  engine: 'auto' | 'pglite',
  suite: (engine: string, open: OpenStores) => void,
): void {
  describe(label, () => {
    const postgres = postgresPerTest(engine, { emptyBeforeEach: false });
    suite(label, async (now = () => new Date()) => {
      const sql = postgres.sql;
      await emptyEveryTable(sql);
      return {
        stores: openPostgresStores({ sql, now }),
        engine: 'postgres',
        raw: { engine: 'postgres', sql },
        close: async () => {},
      };
    });
  });
}

/**
 * A fresh PostgreSQL database for the calling `describe` (the server when one answers, else PGlite;
 * `'pglite'` always PGlite), opened once and dropped after its tests, every table emptied before each test
 * unless told not to. It registers its own hooks, ahead of the caller's: read `sql` and `url` inside hooks
 * and tests.
 */
export function postgresPerTest(
  engine: 'auto' | 'pglite' = 'auto',
  options: { emptyBeforeEach?: boolean } = {},
): { readonly sql: Sql; readonly url: string } {
  let database: PostgresTestDatabase | undefined;
  let sql: Sql | undefined;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ engine });
    sql = await openPostgres({ url: database.url, poolSize: database.poolSize });
  }, startUpMs);
  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });
  if (options.emptyBeforeEach !== false) {
    beforeEach(async () => {
      if (sql) await emptyEveryTable(sql);
    });
  }
  const notOpen = () => new Error('the test database is not open yet (read it inside hooks and tests)');
  return {
    get sql(): Sql {
      if (!sql) throw notOpen();
      return sql;
    },
    /** Its URL, for a second pool standing for another process. */
    get url(): string {
      if (!database) throw notOpen();
      return database.url;
    },
  };
}

/** Empties every table but the migration record, and restarts identities, so each case starts afresh. */
export async function emptyEveryTable(sql: Sql): Promise<void> {
  const tables = await sql<{ name: string }[]>`
    SELECT quote_ident(table_name) AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`;
  if (tables.length === 0) return;
  await sql.unsafe(`TRUNCATE ${tables.map((table) => table.name).join(', ')} RESTART IDENTITY`);
}
