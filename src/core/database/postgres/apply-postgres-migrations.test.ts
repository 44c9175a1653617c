import type { Sql } from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
} from '../../../test-support/postgres-test-database.ts';
import type { Migration } from '../migrations/index.ts';
import { applyPostgresMigrations } from './apply-postgres-migrations.ts';
import { postgresMigrations } from './migrations/index.ts';
import { createPostgresPool } from './open-postgres.ts';

// Starting PGlite (WebAssembly) takes seconds on a small machine: a start-up cost, not a race.
const startUpMs = 60_000;

// A migration that is not idempotent: applied twice, its second CREATE TABLE would fail.
const counted: Migration = {
  version: 99,
  name: 'applied-once',
  sql: 'CREATE TABLE applied_once (id integer); INSERT INTO applied_once VALUES (1);',
};

describe('PostgreSQL migrations', () => {
  let database: PostgresTestDatabase | undefined;
  const pools: Sql[] = [];

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
    await database?.drop();
  });

  it(
    'are applied once when several processes start together on one fresh database',
    async () => {
      database = await createPostgresTestDatabase();
      const migrations = [...postgresMigrations, counted];
      // A pool each, as separate processes would have (PGlite's multiplexer serves several too).
      for (let index = 0; index < 6; index++) {
        pools.push(createPostgresPool({ url: database.url, poolSize: database.poolSize }));
      }
      const starts = Array.from({ length: 6 }, (_, index) =>
        applyPostgresMigrations(pools[index % pools.length] as Sql, migrations),
      );
      const applied = (await Promise.all(starts)).flat().sort((left, right) => left - right);
      expect(applied).toEqual(migrations.map((migration) => migration.version));
      const [sql] = pools as [Sql];
      expect(await sql`SELECT version FROM schema_migrations ORDER BY version`).toEqual(
        migrations.map((migration) => ({ version: migration.version })),
      );
      expect(await sql`SELECT count(*)::integer AS rows FROM applied_once`).toEqual([{ rows: 1 }]);
      // A later start finds nothing to do.
      expect(await applyPostgresMigrations(sql, migrations)).toEqual([]);
    },
    startUpMs,
  );

  it(
    'leave nothing behind when a migration fails, so the next start applies it whole',
    async () => {
      database = await createPostgresTestDatabase();
      const sql = createPostgresPool({ url: database.url, poolSize: database.poolSize });
      pools.push(sql);
      const broken: Migration = {
        version: Math.max(...postgresMigrations.map((migration) => migration.version)) + 1,
        name: 'broken',
        sql: 'CREATE TABLE half (id integer); SELECT 1/0;',
      };
      await expect(applyPostgresMigrations(sql, [...postgresMigrations, broken])).rejects.toThrow(
        /division by zero/,
      );
      expect(await sql`SELECT to_regclass('quota_counters') IS NULL AS absent`).toEqual([{ absent: true }]);
      expect(await applyPostgresMigrations(sql, postgresMigrations)).toEqual(
        postgresMigrations.map((migration) => migration.version),
      );
    },
    startUpMs,
  );
});
