import type { Sql } from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
} from '../../../test-support/postgres-test-database.ts';
import { createPostgresPool } from './open-postgres.ts';
import { PostgresWriteBatcher } from './postgres-write-batcher.ts';

// Starting PGlite (WebAssembly) takes seconds on a small machine: a start-up cost, not a race.
const startUpMs = 60_000;

describe('PostgresWriteBatcher', () => {
  let database: PostgresTestDatabase;
  let sql: Sql;

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    sql = createPostgresPool({ url: database.url, poolSize: database.poolSize });
    await sql`CREATE TABLE notes (id integer PRIMARY KEY, text text NOT NULL)`;
  }, startUpMs);

  afterAll(async () => {
    await sql.end();
    await database.drop();
  });

  beforeEach(async () => {
    await sql`DELETE FROM notes`;
  });

  const notes = async () =>
    (await sql<{ id: number }[]>`SELECT id FROM notes ORDER BY id`).map((row) => row.id);

  it('runs the writes queued together in one transaction, each with several statements, and gives each its own result', async () => {
    const batcher = new PostgresWriteBatcher(sql);
    const results = await Promise.all(
      [1, 2, 3, 4].map((id) =>
        batcher.run(async (transaction) => {
          await transaction`INSERT INTO notes (id, text) VALUES (${id}, 'first')`;
          const [row] = await transaction<{ id: number }[]>`
            UPDATE notes SET text = 'second' WHERE id = ${id} RETURNING id`;
          const [{ txid } = { txid: '' }] = await transaction<{ txid: string }[]>`
            SELECT txid_current()::text AS txid`;
          return { id: row?.id, txid };
        }),
      ),
    );
    expect(results.map((result) => result.id)).toEqual([1, 2, 3, 4]);
    expect(new Set(results.map((result) => result.txid)).size).toBe(1);
    expect(await sql`SELECT DISTINCT text FROM notes`).toEqual([{ text: 'second' }]);
  });

  it('loses only a write that throws, its own statements undone, while the rest of its group commits', async () => {
    const batcher = new PostgresWriteBatcher(sql);
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map((id) =>
        batcher.run(async (transaction) => {
          await transaction`INSERT INTO notes (id, text) VALUES (${id}, 'kept')`;
          if (id === 2) throw new Error('refused');
          return id;
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('refused'));
    expect(await notes()).toEqual([1, 3]);
  });

  it('loses only a write whose statement fails, though it aborted the whole first attempt', async () => {
    await sql`INSERT INTO notes (id, text) VALUES (2, 'already there')`;
    const batcher = new PostgresWriteBatcher(sql);
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map((id) =>
        batcher.run((transaction) => transaction`INSERT INTO notes (id, text) VALUES (${id}, 'new')`),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
    expect(await notes()).toEqual([1, 2, 3]);
  });
});
