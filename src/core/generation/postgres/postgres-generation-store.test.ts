import type { Sql } from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
} from '../../../test-support/postgres-test-database.ts';
import { emptyEveryTable } from '../../../test-support/store-engines.ts';
import { openPostgres } from '../../database/postgres/open-postgres.ts';
import { newRecordId } from '../../database/record-id.ts';
import type { GenerationRecord } from '../generation-records.ts';
import { insertGenerationRecords, PostgresGenerationStore } from './postgres-generation-store.ts';

// Starting PGlite (WebAssembly) takes seconds on a small machine: a start-up cost, not a race.
const startUpMs = 60_000;

function recordOf(userId: string): GenerationRecord {
  const createdAt = new Date('2026-03-10T12:00:00.000Z');
  const id = newRecordId(createdAt);
  return {
    id,
    userId,
    batchId: undefined,
    source: 'api',
    prompt: 'a fox',
    promptUsed: 'a fox',
    negativePrompt: undefined,
    style: undefined,
    model: 'placeholder',
    seed: 7,
    width: 512,
    height: 512,
    quality: 'standard',
    costUsd: 0.01,
    generationMs: 5,
    storageKey: `images/${id}.png`,
    imageUrl: `http://127.0.0.1/images/${id}.png`,
    contentType: 'image/png',
    providerRequestId: undefined,
    warnings: [],
    createdAt,
    parentId: undefined,
    kind: undefined,
  };
}

// What the lead's PostgreSQL charge relies on: records written on a transaction handle commit or roll
// back with everything else in that transaction.
describe('insertGenerationRecords on a PostgreSQL transaction', () => {
  let database: PostgresTestDatabase;
  let sql: Sql;
  let store: PostgresGenerationStore;
  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    sql = await openPostgres({ url: database.url, poolSize: database.poolSize });
    store = new PostgresGenerationStore(sql);
  }, startUpMs);
  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });
  beforeEach(async () => {
    await emptyEveryTable(sql);
  });

  it('commits the records with the rest of the transaction', async () => {
    const made = [recordOf('alice'), recordOf('alice')];
    await sql.begin(async (tx) => {
      await insertGenerationRecords(tx, made);
      await tx`INSERT INTO quota_counters (subject, period, used_images) VALUES ('user:alice', '2026-03', 2)`;
    });
    expect(await store.listBatch('alice', 'none')).toEqual([]);
    expect(await store.newestFirst('alice', 10, undefined)).toEqual([...made].reverse());
  });

  it('writes nothing when the transaction rolls back after them', async () => {
    const made = [recordOf('alice')];
    await expect(
      sql.begin(async (tx) => {
        await insertGenerationRecords(tx, made);
        throw new Error('the charge was refused');
      }),
    ).rejects.toThrow('the charge was refused');
    expect(await store.newestFirst('alice', 10, undefined)).toEqual([]);
  });

  it('writes nothing for no records', async () => {
    await insertGenerationRecords(sql, []);
    expect(await store.newestFirst('alice', 10, undefined)).toEqual([]);
  });
});
