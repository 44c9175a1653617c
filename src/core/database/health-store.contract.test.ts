import { expect, it } from 'vitest';
import { countRows } from '../../test-support/seed-rows.ts';
import { onEveryStoreEngine } from '../../test-support/store-engines.ts';

// What `/health` asks the database on every engine: a real write that lands, as often as it is asked.
onEveryStoreEngine((engine, open) => {
  it(`reports a working database as healthy on ${engine}, writing its one probe row`, async () => {
    const opened = await open();
    try {
      expect(await opened.stores.health.probe()).toBe(true);
      expect(await Promise.all([opened.stores.health.probe(), opened.stores.health.probe()])).toEqual([
        true,
        true,
      ]);
      expect(await countRows(opened.raw, 'health_probe')).toBe(1);
    } finally {
      await opened.close();
    }
  });
});
