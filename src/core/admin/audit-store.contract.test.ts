/**
 * The audit trail's contract on every engine, through the engine-neutral `AuditLog`: entries read back
 * newest first across cursors, and deleting an image commits its record's removal, its refund and its
 * audit row together — once, however many deletions race for it.
 */

import { afterEach, beforeEach, expect, it } from 'vitest';
import { imagineRefusal as refusal } from '../../test-support/imagine-refusal.ts';
import { countRows, seedCounter, seedGeneration } from '../../test-support/seed-rows.ts';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { shownImage } from './admin-queries.ts';
import type { AdminImageRecord } from './admin-report-store.ts';
import { AuditLog } from './audit-log.ts';

const imageId = '0190c0de-0000-7000-8000-000000000001';
const actor = 'imk_abcd1234 (ops)';

/** The change `AdminActions.deleteImage` asks for. */
const deletion = (refund: boolean) => ({
  refundFor: refund
    ? (image: AdminImageRecord) => ({
        userId: image.userId,
        period: image.createdAt.slice(0, 7),
        charge: { images: 1, costUsd: image.costUsd },
      })
    : undefined,
  entryFor: (image: AdminImageRecord) => ({
    actor,
    action: 'image.delete',
    target: image.id,
    before: shownImage(image),
    after: { refunded: refund },
  }),
});

onEveryStoreEngine((engine, open) => {
  let opened: StoresUnderTest;
  let now: Date;
  let audit: AuditLog;

  beforeEach(async () => {
    now = new Date('2026-03-15T10:00:00.000Z');
    opened = await open(() => now);
    audit = new AuditLog(opened.stores.audit, () => now);
  });

  afterEach(async () => {
    await opened.close();
  });

  async function seedImage(costUsd = 0.25): Promise<void> {
    await seedGeneration(opened.raw, {
      id: imageId,
      userId: 'alice',
      createdAt: new Date('2026-02-20T08:00:00.000Z'),
      costUsd,
      prompt: 'a lighthouse at dusk',
    });
    await seedCounter(opened.raw, { subject: 'user:alice', period: '2026-02', used: 3 });
    await seedCounter(opened.raw, { subject: 'budget', period: '2026-02', spentUsd: 1 });
  }

  it(`reads the trail back newest first across cursors on ${engine}, before and after as recorded`, async () => {
    for (let index = 0; index < 25; index++) {
      now = new Date(Date.UTC(2026, 2, 1, 0, index));
      await audit.record({
        actor,
        action: 'user.plan',
        target: `user-${index}`,
        before: index === 0 ? null : { plan: 'free', index },
        after: index === 0 ? undefined : { plan: 'pro', tags: ['a', 'b'] },
      });
    }
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await audit.list({ limit: 10, cursor });
      pages.push(page.entries.map((entry) => entry.target));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, index) => `user-${24 - index}`));

    const newest = (await audit.list({ limit: 1, cursor: undefined })).entries[0];
    expect(newest).toMatchObject({
      actor,
      action: 'user.plan',
      target: 'user-24',
      before: { plan: 'free', index: 24 },
      after: { plan: 'pro', tags: ['a', 'b'] },
      createdAt: '2026-03-01T00:24:00.000Z',
    });
    const oldest = (await audit.list({ limit: 25, cursor: undefined })).entries.at(-1);
    expect(oldest).toMatchObject({ target: 'user-0', before: null, after: null });
    const ids = (await audit.list({ limit: 25, cursor: undefined })).entries.map((entry) => entry.id);
    expect(ids).toEqual([...ids].sort((left, right) => right - left));
    expect(new Set(ids).size).toBe(25);
  });

  it(`refuses a cursor it did not hand out on ${engine}`, async () => {
    const error = await refusal(() => audit.list({ limit: 10, cursor: 'not-a-cursor' }));
    expect(error.code).toBe('validation_error');
    expect(await audit.list({ limit: 10, cursor: undefined })).toEqual({
      entries: [],
      nextCursor: undefined,
    });
  });

  it(`deletes an image with its refund and its audit row on ${engine}`, async () => {
    await seedImage();
    const deleted = await audit.deleteImage(imageId, deletion(true));
    expect(deleted).toMatchObject({
      id: imageId,
      userId: 'alice',
      costUsd: 0.25,
      createdAt: '2026-02-20T08:00:00.000Z',
      storageKey: `images/${imageId}.png`,
    });
    expect(await countRows(opened.raw, 'generations')).toBe(0);
    expect(await opened.stores.quota.counter('user:alice', '2026-02')).toMatchObject({ usedImages: 2 });
    expect(await opened.stores.quota.counter('budget', '2026-02')).toMatchObject({ spentUsd: 0.75 });
    const [entry] = (await audit.list({ limit: 10, cursor: undefined })).entries;
    expect(entry).toMatchObject({
      action: 'image.delete',
      target: imageId,
      before: { id: imageId, userId: 'alice', prompt: 'a lighthouse at dusk', costUsd: 0.25 },
      after: { refunded: true },
      createdAt: '2026-03-15T10:00:00.000Z',
    });
    // What the trail keeps is what the console shows: no storage key, no row number.
    expect(Object.keys(entry?.before as object)).not.toContain('storageKey');
    expect(Object.keys(entry?.before as object)).not.toContain('rowId');
  });

  it(`leaves usage charged when the deletion is not refunded on ${engine}`, async () => {
    await seedImage();
    expect(await audit.deleteImage(imageId, deletion(false))).toBeDefined();
    expect(await opened.stores.quota.counter('user:alice', '2026-02')).toMatchObject({ usedImages: 3 });
    expect(await opened.stores.quota.counter('budget', '2026-02')).toMatchObject({ spentUsd: 1 });
    expect((await audit.list({ limit: 10, cursor: undefined })).entries[0]?.after).toEqual({
      refunded: false,
    });
  });

  it(`deletes, refunds and audits once when 20 deletions of one image race on ${engine}`, async () => {
    await seedImage();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => audit.deleteImage(imageId, deletion(true))),
    );
    expect(outcomes.filter((outcome) => outcome !== undefined)).toHaveLength(1);
    expect(await opened.stores.quota.counter('user:alice', '2026-02')).toMatchObject({ usedImages: 2 });
    expect(await opened.stores.quota.counter('budget', '2026-02')).toMatchObject({ spentUsd: 0.75 });
    expect(await countRows(opened.raw, 'admin_audit')).toBe(1);
  });

  it(`changes nothing for an image that is not there on ${engine}`, async () => {
    await seedImage();
    expect(await audit.deleteImage('0190c0de-0000-7000-8000-00000000ffff', deletion(true))).toBeUndefined();
    expect(await countRows(opened.raw, 'generations')).toBe(1);
    expect(await countRows(opened.raw, 'admin_audit')).toBe(0);
    expect(await opened.stores.quota.counter('user:alice', '2026-02')).toMatchObject({ usedImages: 3 });
  });

  it(`keeps the record and its charge when the audit row cannot be written on ${engine}`, async () => {
    await seedImage();
    const failing = {
      ...deletion(true),
      entryFor: () => {
        throw new Error('no audit row');
      },
    };
    await expect(audit.deleteImage(imageId, failing)).rejects.toThrow('no audit row');
    expect(await countRows(opened.raw, 'generations')).toBe(1);
    expect(await opened.stores.quota.counter('user:alice', '2026-02')).toMatchObject({ usedImages: 3 });
    expect(await opened.stores.quota.counter('budget', '2026-02')).toMatchObject({ spentUsd: 1 });
  });

  it(`never refunds a counter below zero on ${engine}`, async () => {
    await seedGeneration(opened.raw, {
      id: imageId,
      userId: 'alice',
      createdAt: new Date('2026-02-20T08:00:00.000Z'),
      costUsd: 0.25,
    });
    await seedCounter(opened.raw, { subject: 'user:alice', period: '2026-02', used: 0 });
    await seedCounter(opened.raw, { subject: 'budget', period: '2026-02', spentUsd: 0.1 });
    expect(await audit.deleteImage(imageId, deletion(true))).toBeDefined();
    expect(await opened.stores.quota.counter('user:alice', '2026-02')).toMatchObject({ usedImages: 0 });
    expect(await opened.stores.quota.counter('budget', '2026-02')).toMatchObject({ spentUsd: 0 });
  });
});
