import { beforeAll, describe, expect, it } from 'vitest';
import { postgresPerTest } from '../../../test-support/store-engines.ts';
import { newRecordId } from '../../database/record-id.ts';
import type { GenerationRecord } from '../generation-records.ts';
import { insertGenerationRecords, PostgresGenerationStore } from './postgres-generation-store.ts';

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
  const postgres = postgresPerTest();
  let store: PostgresGenerationStore;
  beforeAll(() => {
    store = new PostgresGenerationStore(postgres.sql);
  });

  it('commits the records with the rest of the transaction', async () => {
    const made = [recordOf('alice'), recordOf('alice')];
    await postgres.sql.begin(async (tx) => {
      await insertGenerationRecords(tx, made);
      await tx`INSERT INTO quota_counters (subject, period, used_images) VALUES ('user:alice', '2026-03', 2)`;
    });
    expect(await store.listBatch('alice', 'none')).toEqual([]);
    expect(await store.newestFirst('alice', 10, undefined)).toEqual([...made].reverse());
  });

  it('writes nothing when the transaction rolls back after them', async () => {
    const made = [recordOf('alice')];
    await expect(
      postgres.sql.begin(async (tx) => {
        await insertGenerationRecords(tx, made);
        throw new Error('the charge was refused');
      }),
    ).rejects.toThrow('the charge was refused');
    expect(await store.newestFirst('alice', 10, undefined)).toEqual([]);
  });

  it('writes nothing for no records', async () => {
    await insertGenerationRecords(postgres.sql, []);
    expect(await store.newestFirst('alice', 10, undefined)).toEqual([]);
  });
});
