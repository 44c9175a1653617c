import type { Sql } from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
} from '../../../test-support/postgres-test-database.ts';
import { createPostgresPool } from './open-postgres.ts';
import { PostgresWriteBatcher } from './postgres-write-batcher.ts';
import type { Queryable } from './queryable.ts';

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

  it('takes the writes’ advisory locks, each once, before their statements and until the group commits', async () => {
    const batcher = new PostgresWriteBatcher(sql);
    // The advisory locks this backend holds: a two-key one shows its keys as classid and objid (unsigned).
    const heldLocks = async (transaction: Queryable) =>
      (
        await transaction<{ lock: string }[]>`
          SELECT classid::text || ':' || objid::text AS lock FROM pg_locks
          WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND pid = pg_backend_pid()
          ORDER BY objid`
      ).map((row) => row.lock);
    const expected = (
      await sql<{ lock: string }[]>`
        SELECT '7:' || (hashtext(name)::bigint & 4294967295)::text AS lock
        FROM unnest(ARRAY['alice', 'bob']) AS name ORDER BY hashtext(name)::bigint & 4294967295`
    ).map((row) => row.lock);
    const alice = { space: 7, key: 'alice' };
    const held = await Promise.all([
      batcher.run(heldLocks, 'alice', alice),
      batcher.run(
        async (transaction) => {
          await transaction`INSERT INTO notes (id, text) VALUES (1, 'alice again')`;
          return heldLocks(transaction);
        },
        'alice',
        alice,
      ),
      batcher.run(heldLocks, 'bob', { space: 7, key: 'bob' }),
      batcher.run(async (transaction) => {
        await transaction`INSERT INTO notes (id, text) VALUES (2, 'no lock of its own')`;
        return heldLocks(transaction);
      }, 'carol'),
    ]);
    // Every write, the first included, runs with the whole group's locks held, alice's among them once.
    expect(held).toEqual([expected, expected, expected, expected]);
    expect(await notes()).toEqual([1, 2]);
    expect(await sql`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2`).toHaveLength(0);
  });

  it('rolls back and frees the connection when a write throws before returning a promise', async () => {
    const batcher = new PostgresWriteBatcher(sql);
    const throwsAtOnce = (() => {
      throw new Error('refused at once');
    }) as unknown as () => Promise<unknown>;
    const outcomes = await Promise.allSettled([
      batcher.run((transaction) => transaction`INSERT INTO notes (id, text) VALUES (1, 'kept')`),
      batcher.run(throwsAtOnce),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected']);
    expect(await notes()).toEqual([1]);
    // Every connection is back outside a transaction: a later group commits on whichever it gets.
    await Promise.all(
      Array.from({ length: database.poolSize }, (_, index) =>
        batcher.run(
          (transaction) => transaction`INSERT INTO notes (id, text) VALUES (${10 + index}, 'later')`,
        ),
      ),
    );
    expect(await sql`SELECT 1 FROM pg_stat_activity WHERE state = 'idle in transaction'`).toHaveLength(0);
  });

  it('fails the whole group, writing nothing, when a write swallows the error of a statement that aborted it', async () => {
    await sql`INSERT INTO notes (id, text) VALUES (2, 'already there')`;
    const batcher = new PostgresWriteBatcher(sql);
    const outcomes = await Promise.allSettled([
      batcher.run(async (transaction) => {
        await transaction`INSERT INTO notes (id, text) VALUES (1, 'would be kept')`;
        try {
          await transaction`INSERT INTO notes (id, text) VALUES (2, 'a duplicate')`;
        } catch {
          // Swallowed: the transaction is aborted all the same, and PostgreSQL answers COMMIT with ROLLBACK.
        }
        return 'looked fine';
      }),
      batcher.run(async () => 'no statement of its own'),
    ]);
    const rolledBack = new Error('the group transaction was rolled back');
    expect(outcomes).toEqual([
      { status: 'rejected', reason: rolledBack },
      { status: 'rejected', reason: rolledBack },
    ]);
    expect(await notes()).toEqual([2]);
  });
});
