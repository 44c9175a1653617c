import { expect, it } from 'vitest';
import { onEveryStoreEngine } from '../../test-support/store-engines.ts';

// The harness every store's contract suite runs on: each engine opens, and each case starts empty.
onEveryStoreEngine((engine, open) => {
  it(`opens every store on ${engine}, each case on an empty database`, async () => {
    const first = await open();
    await first.stores.quota.hold(
      { userId: 'u1', userLimit: 5, scope: undefined, images: 2, estimatedUsd: 0, budgetUsd: undefined },
      new Date('2026-03-10T12:00:00Z'),
    );
    expect(await first.stores.quota.heldIds()).toHaveLength(1);
    await first.close();
    const second = await open();
    expect(await second.stores.quota.heldIds()).toEqual([]);
    await second.close();
  });
});
