import type { Sql, TransactionSql } from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { postgresPerTest } from '../../../test-support/store-engines.ts';
import type { NewJobRow } from '../new-job-row.ts';
import { finishJob, insertJob, insertJobIfBelow, startJob, startJobIfBelow } from './postgres-job-rows.ts';
import { PostgresJobStore } from './postgres-job-store.ts';

const now = new Date('2026-03-10T12:00:00.000Z');

const job = (id: string, status: NewJobRow['status'] = 'queued'): NewJobRow => ({
  id,
  userId: 'alice',
  kind: 'image',
  source: 'api',
  delivery: 'rest',
  request: { prompt: 'a lighthouse' },
  status,
  workerId: 'worker-a',
  now,
});

class RolledBack extends Error {}

/** Runs `work` in a transaction that is then rolled back, as a refused quota hold would. */
async function rolledBack(sql: Sql, work: (tx: TransactionSql) => Promise<unknown>) {
  await expect(
    sql.begin(async (tx) => {
      await work(tx);
      throw new RolledBack();
    }),
  ).rejects.toBeInstanceOf(RolledBack);
}

// The writes the request path puts in its own transactions (a quota hold, a charge): they commit with it
// or not at all. The server when one answers at 127.0.0.1:5432, PGlite when not.
describe('PostgreSQL job rows inside a caller’s transaction', () => {
  const postgres = postgresPerTest();
  let store: PostgresJobStore;
  beforeAll(() => {
    store = new PostgresJobStore(postgres.sql);
  });

  it('inserts a job with its hold, and leaves no row when the hold is refused', async () => {
    await rolledBack(postgres.sql, async (tx) => {
      await insertJob(tx, job('job-1', 'running'));
      expect(await insertJobIfBelow(tx, job('job-2'), 5)).toBe('running');
    });
    expect(await store.get('job-1', 'alice')).toBeUndefined();
    expect(await store.get('job-2', 'alice')).toBeUndefined();
    await postgres.sql.begin(async (tx) => {
      await insertJob(tx, job('job-1', 'running'));
    });
    expect(await store.get('job-1', 'alice')).toMatchObject({ status: 'running', startedAt: now });
  });

  it('finishes a job with its charge: status and result are there together, or neither is', async () => {
    await store.insert(job('job-1', 'running'));
    const ending = { status: 'succeeded', httpStatus: 201, result: { data: [{ url: 'u' }] } } as const;
    await rolledBack(postgres.sql, async (tx) => {
      expect(await finishJob(tx, 'job-1', ending, now)).toBe(true);
    });
    expect(await store.get('job-1', 'alice')).toMatchObject({
      status: 'running',
      httpStatus: undefined,
      result: undefined,
      finishedAt: undefined,
    });
    await postgres.sql.begin((tx) => finishJob(tx, 'job-1', ending, now));
    expect(await store.get('job-1', 'alice')).toMatchObject({
      status: 'succeeded',
      httpStatus: 201,
      result: ending.result,
      finishedAt: now,
    });
  });

  it('undoes a start rolled back with its transaction, so it does not count against the limit', async () => {
    await store.insert(job('job-1'));
    await store.insert(job('job-2'));
    await rolledBack(postgres.sql, async (tx) => {
      expect(
        await startJobIfBelow(tx, { id: 'job-1', userId: 'alice', maxRunning: 1, workerId: 'w', now }),
      ).toBe('started');
      expect(await startJob(tx, 'job-2', now)).toBe(true);
    });
    expect(
      await store.startIfBelow({ id: 'job-2', userId: 'alice', maxRunning: 1, workerId: 'w', now }),
    ).toBe('started');
    expect(
      await store.startIfBelow({ id: 'job-1', userId: 'alice', maxRunning: 1, workerId: 'w', now }),
    ).toBe('limit-reached');
  });
});
