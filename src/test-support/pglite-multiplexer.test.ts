import postgres, { type Sql } from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresTestDatabase, type PostgresTestDatabase } from './postgres-test-database.ts';

// Starting PGlite (WebAssembly) takes seconds on a small machine: a start-up cost, not a race.
const startUpMs = 60_000;

describe('PGlite behind the multiplexer', () => {
  let database: PostgresTestDatabase | undefined;
  const pools: Sql[] = [];

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end({ timeout: 1 })));
    await database?.drop();
    database = undefined;
  });

  const pool = (url: string) => {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    pools.push(sql);
    return sql;
  };

  it(
    'serves several pools at once, each transaction alone and each statement whole',
    async () => {
      database = await createPostgresTestDatabase({ engine: 'pglite' });
      const pools3 = [pool(database.url), pool(database.url), pool(database.url)] as const;
      const [first, second] = pools3;
      const on = (index: number): Sql => pools3[index % 3] as Sql;
      await first`CREATE TABLE counter (id integer PRIMARY KEY, value integer NOT NULL)`;
      await first`INSERT INTO counter VALUES (1, 0)`;
      // A read then a write in each transaction: lost updates if two transactions interleaved.
      const increments = Array.from({ length: 60 }, (_, index) =>
        on(index).begin(async (transaction) => {
          const [row] = await transaction`SELECT value FROM counter WHERE id = 1 FOR UPDATE`;
          await transaction`UPDATE counter SET value = ${Number(row?.value) + 1} WHERE id = 1`;
        }),
      );
      // Parameterised statements from every pool at once: a Bind meeting another pool's Parse would fail.
      const reads = Array.from({ length: 60 }, (_, index) => on(index)`SELECT ${index}::integer AS echoed`);
      await Promise.all(increments);
      expect((await Promise.all(reads)).map((rows) => rows[0]?.echoed)).toEqual(
        Array.from({ length: 60 }, (_, index) => index),
      );
      expect(await second`SELECT value FROM counter`).toEqual([{ value: 60 }]);
    },
    startUpMs,
  );

  it(
    'rolls back the transaction of a connection that is gone, and serves the others on',
    async () => {
      database = await createPostgresTestDatabase({ engine: 'pglite' });
      const survivor = pool(database.url);
      await survivor`CREATE TABLE notes (text text NOT NULL)`;
      const doomed = pool(database.url);
      const inside = doomed.begin(async (transaction) => {
        await transaction`INSERT INTO notes VALUES ('never committed')`;
        // The connection drops before the transaction ends, as a killed process's does.
        await doomed.end({ timeout: 0 });
        await transaction`SELECT 1`;
      });
      await expect(inside).rejects.toThrow();
      await survivor`INSERT INTO notes VALUES ('committed')`;
      expect(await survivor`SELECT text FROM notes`).toEqual([{ text: 'committed' }]);
    },
    startUpMs,
  );
});
