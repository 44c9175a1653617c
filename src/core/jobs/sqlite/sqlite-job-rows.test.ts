import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../database/open-database.ts';
import { WriteBatcher } from '../../database/write-batcher.ts';
import type { NewJobRow } from '../new-job-row.ts';
import { SqliteJobRows } from './sqlite-job-rows.ts';

const now = new Date('2026-03-10T12:00:00.000Z');
const later = new Date(now.getTime() + 60_000);

const job = (id: string, status: NewJobRow['status'] = 'queued', workerId = 'worker-a'): NewJobRow => ({
  id,
  userId: 'alice',
  kind: 'image',
  source: 'api',
  delivery: 'rest',
  request: { prompt: 'a lighthouse' },
  status,
  workerId,
  now,
});

// The synchronous statements ride on transactions others open (the batcher's group, the generator's
// charge): they commit with them or not at all.
describe('SQLite job rows inside a caller’s transaction', () => {
  let folder: string;
  let database: SqliteDatabase;
  let rows: SqliteJobRows;

  beforeEach(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-job-rows-'));
    database = openDatabase(path.join(folder, 'imagine.sqlite'));
    rows = new SqliteJobRows(database);
  });

  afterEach(() => {
    database.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('finishes a job with its charge: status and result are there together, or neither is', () => {
    rows.insert(job('job-1', 'running'));
    const ending = { status: 'succeeded', httpStatus: 201, result: { data: [{ url: 'u' }] } } as const;
    const charge = database.transaction((refused: boolean) => {
      rows.finish('job-1', ending, later);
      if (refused) throw new Error('the charge failed');
    });
    expect(() => charge(true)).toThrow('the charge failed');
    expect(rows.get('job-1', 'alice')).toMatchObject({ status: 'running', result: undefined });
    charge(false);
    expect(rows.get('job-1', 'alice')).toMatchObject({
      status: 'succeeded',
      httpStatus: 201,
      result: ending.result,
      finishedAt: later,
    });
  });

  it('claims inside an open transaction, and gives the claim back when that rolls back', () => {
    rows.insert(job('job-1', 'running', 'dead'));
    const claim = { workerId: 'survivor', now: later, staleBefore: new Date(later.getTime() - 30_000) };
    const recovery = database.transaction(() => {
      expect(rows.claimAbandoned(claim).map((each) => each.id)).toEqual(['job-1']);
      throw new Error('recovery crashed');
    });
    expect(() => recovery.immediate()).toThrow('recovery crashed');
    expect(rows.get('job-1', 'alice')?.workerId).toBe('dead');
    expect(rows.claimAbandoned(claim).map((each) => each.previousWorkerId)).toEqual(['dead']);
  });

  it('counts a start against the limit in the batcher’s group, beside writes that fail', async () => {
    const writes = new WriteBatcher(database);
    for (const id of ['job-1', 'job-2', 'job-3']) rows.insert(job(id));
    const start = (id: string) =>
      rows.startIfBelow({ id, userId: 'alice', maxRunning: 2, workerId: 'w', now });
    const outcomes = await Promise.allSettled([
      writes.run(() => start('job-1')),
      writes.run(() => {
        start('job-2');
        throw new Error('refused');
      }),
      writes.run(() => start('job-3')),
    ]);
    expect(outcomes.map((each) => (each.status === 'fulfilled' ? each.value : 'rejected'))).toEqual([
      'started',
      'rejected',
      'started',
    ]);
    expect(rows.get('job-2', 'alice')?.status).toBe('queued');
    expect(await writes.run(() => start('job-2'))).toBe('limit-reached');
  });
});
