/**
 * The generation store's contract: every engine runs this one suite through `GenerationRecords`, so the
 * engines cannot drift in what a user notices — what they get back, in which order, page by page, and
 * that nobody else's images are ever among them.
 */
import { afterEach, expect, it } from 'vitest';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { newRecordId } from '../database/record-id.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { type GenerationRecord, GenerationRecords } from './generation-records.ts';

const madeAt = new Date('2026-03-10T12:00:00.123Z');

/** A plain text-to-image of `userId`'s; `changes` fills in the rest. */
function recordOf(userId: string, changes: Partial<GenerationRecord> = {}): GenerationRecord {
  const createdAt = changes.createdAt ?? madeAt;
  const id = changes.id ?? newRecordId(createdAt);
  return {
    id,
    userId,
    batchId: undefined,
    source: 'api',
    prompt: 'a red fox in snow',
    promptUsed: 'a red fox in snow, detailed',
    negativePrompt: undefined,
    style: undefined,
    model: 'placeholder',
    seed: undefined,
    width: 512,
    height: 512,
    quality: 'standard',
    costUsd: 0,
    generationMs: 12,
    storageKey: `images/${id}.png`,
    imageUrl: `http://127.0.0.1/images/${id}.png`,
    contentType: 'image/png',
    providerRequestId: undefined,
    warnings: [],
    createdAt,
    parentId: undefined,
    kind: undefined,
    ...changes,
  };
}

/** Every page of a user's history at `limit` a page, in the order they came. */
async function everyPage(records: GenerationRecords, userId: string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await records.listForUser(userId, { limit, cursor });
    pages.push(page.records.map((record) => record.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return pages;
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

const newestFirst = (ids: readonly string[]) => [...ids].sort().reverse();

onEveryStoreEngine((engine, open) => {
  let opened: StoresUnderTest;
  let records: GenerationRecords;

  async function start(): Promise<void> {
    opened = await open();
    records = new GenerationRecords(opened.stores.generations);
  }

  afterEach(async () => {
    await opened?.close();
  });

  it(`gives back every field of a record as it was written, on ${engine}`, async () => {
    await start();
    const full = recordOf('alice', {
      batchId: 'batch-1',
      source: 'discord',
      negativePrompt: 'blurry',
      style: 'watercolor',
      seed: 4_294_967_295,
      width: 1024,
      height: 768,
      quality: 'high',
      costUsd: 0.04,
      providerRequestId: 'prediction-7',
      warnings: [{ type: 'unsupported', feature: 'seed', detail: 'this model ignores seeds' }],
      kind: 'image_to_image',
      contentType: 'image/webp',
    });
    const plain = recordOf('alice', { seed: 0 });
    await records.insert([full, plain]);
    expect(await records.get('alice', full.id)).toEqual(full);
    expect(await records.get('alice', plain.id)).toEqual(plain);
    expect(await records.get('alice', newRecordId(madeAt))).toBeUndefined();
  });

  it(`shows a user only their own records, on ${engine}`, async () => {
    await start();
    const mine = recordOf('alice', { batchId: 'shared-batch' });
    const theirs = recordOf('bob', { batchId: 'shared-batch' });
    await records.insert([mine, theirs]);
    expect(await records.get('bob', mine.id)).toBeUndefined();
    expect((await records.listForUser('alice', { limit: 10, cursor: undefined })).records).toEqual([mine]);
    expect(await records.listBatch('alice', 'shared-batch')).toEqual([mine]);
    expect(await records.listBatch('bob', 'shared-batch')).toEqual([theirs]);
    // Another user's cursor is only a position: it never reveals the other's records.
    const bobs = await records.listForUser('bob', { limit: 1, cursor: undefined });
    expect(bobs.nextCursor).toBeUndefined();
    expect(await records.delete('bob', mine.id)).toBeUndefined();
    expect(await records.get('alice', mine.id)).toEqual(mine);
    expect((await records.listForUser('carol', { limit: 10, cursor: undefined })).records).toEqual([]);
  });

  it(`pages a history newest first with no repeat and no gap when every record shares a timestamp, on ${engine}`, async () => {
    await start();
    const alices = Array.from({ length: 23 }, () => recordOf('alice'));
    const others = Array.from({ length: 9 }, () => recordOf('bob'));
    // Written out of order, one by one: the order comes from the store, not from the inserts.
    for (const record of shuffled([...alices, ...others])) await records.insert([record]);
    const pages = await everyPage(records, 'alice', 5);
    expect(pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.flat()).toEqual(newestFirst(alices.map((record) => record.id)));
  });

  it(`ends a history whose length is a whole number of pages without an empty page, on ${engine}`, async () => {
    await start();
    const alices = Array.from({ length: 10 }, () => recordOf('alice'));
    await records.insert(alices);
    const pages = await everyPage(records, 'alice', 5);
    expect(pages).toEqual([
      newestFirst(alices.map((record) => record.id)).slice(0, 5),
      newestFirst(alices.map((record) => record.id)).slice(5),
    ]);
  });

  it(`keeps later pages exact while new images arrive between them, on ${engine}`, async () => {
    await start();
    const older = Array.from({ length: 6 }, () => recordOf('alice'));
    await records.insert(older);
    const first = await records.listForUser('alice', { limit: 4, cursor: undefined });
    await records.insert([recordOf('alice', { createdAt: new Date(madeAt.getTime() + 1000) })]);
    const second = await records.listForUser('alice', { limit: 4, cursor: first.nextCursor });
    const expected = newestFirst(older.map((record) => record.id));
    expect(first.records.map((record) => record.id)).toEqual(expected.slice(0, 4));
    expect(second.records.map((record) => record.id)).toEqual(expected.slice(4));
    expect(second.nextCursor).toBeUndefined();
  });

  it(`records concurrent generations, each once, on ${engine}`, async () => {
    await start();
    const made = Array.from({ length: 20 }, () => recordOf('alice'));
    await Promise.all(made.map((record) => records.insert([record])));
    expect((await everyPage(records, 'alice', 7)).flat()).toEqual(
      newestFirst(made.map((record) => record.id)),
    );
  });

  it(`refuses a cursor it never gave, on ${engine}`, async () => {
    await start();
    const refusal = await records.listForUser('alice', { limit: 5, cursor: 'not-a-cursor' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(ImagineError.isInstance(refusal) && refusal.code).toBe('validation_error');
  });

  it(`writes a set of records all or none, on ${engine}`, async () => {
    await start();
    const existing = recordOf('alice');
    await records.insert([existing]);
    const fresh = recordOf('alice');
    await expect(records.insert([fresh, { ...existing, prompt: 'again' }])).rejects.toThrow();
    expect(await records.get('alice', fresh.id)).toBeUndefined();
    expect(await records.get('alice', existing.id)).toEqual(existing);
  });

  it(`keeps the lineage of an image and lists a batch in the order it was made, on ${engine}`, async () => {
    await start();
    const grid = Array.from({ length: 4 }, () => recordOf('alice', { batchId: 'grid-1' }));
    const variation = recordOf('alice', { parentId: grid[2]?.id, kind: 'variation' });
    const upscale = recordOf('alice', { parentId: variation.id, kind: 'upscale', width: 1024, height: 1024 });
    // A button pressed by someone else makes the image theirs, still made from alice's.
    const remix = recordOf('bob', { parentId: grid[0]?.id, kind: 'remix', source: 'slack' });
    await records.insert(shuffled([...grid, variation, upscale, remix]));
    expect((await records.listBatch('alice', 'grid-1')).map((record) => record.id)).toEqual(
      grid.map((record) => record.id),
    );
    expect(await records.get('alice', upscale.id)).toMatchObject({ parentId: variation.id, kind: 'upscale' });
    expect(await records.get('bob', remix.id)).toMatchObject({ parentId: grid[0]?.id, kind: 'remix' });
    // Deleting an image leaves what was made from it, still naming where it came from.
    expect(await records.delete('alice', variation.id)).toEqual(variation);
    expect(await records.get('alice', upscale.id)).toMatchObject({ parentId: variation.id, kind: 'upscale' });
  });

  it(`deletes a record once, and the history closes over it, on ${engine}`, async () => {
    await start();
    const [first, second, third] = [recordOf('alice'), recordOf('alice'), recordOf('alice')];
    if (!first || !second || !third) throw new Error('three records');
    await records.insert([first, second, third]);
    expect(await records.delete('alice', second.id)).toEqual(second);
    expect(await records.delete('alice', second.id)).toBeUndefined();
    expect(await records.get('alice', second.id)).toBeUndefined();
    expect((await everyPage(records, 'alice', 1)).flat()).toEqual([third.id, first.id]);
  });

  it(`deletes concurrently: each record is removed by exactly one caller, on ${engine}`, async () => {
    await start();
    const record = recordOf('alice');
    await records.insert([record]);
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => records.delete('alice', record.id)));
    expect(outcomes.filter((outcome) => outcome !== undefined)).toEqual([record]);
  });
});
