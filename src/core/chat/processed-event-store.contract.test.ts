/**
 * The processed-event store's contract, on every engine, through `ProcessedEvents`: a delivery is handled
 * once however many copies arrive at once, and is forgotten after a day.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { ProcessedEvents, processedEventMemoryMs } from './processed-events.ts';

onEveryStoreEngine((engine, open) => {
  describe(`ProcessedEventStore contract on ${engine}`, () => {
    let opened: StoresUnderTest;
    let now: Date;
    let events: ProcessedEvents;

    beforeEach(async () => {
      now = new Date('2026-03-10T12:00:00Z');
      opened = await open(() => now);
      events = new ProcessedEvents(opened.stores.processedEvents, () => now);
    });

    afterEach(async () => {
      await opened.close();
    });

    it('lets a delivery through once; every repeat, and every other key, is told apart', async () => {
      expect(await events.claim('slack:command:T1')).toBe(true);
      expect(await events.claim('slack:command:T1')).toBe(false);
      expect(await events.claim('slack:command:T2')).toBe(true);
      expect(await events.claim('discord:interaction:T1')).toBe(true);
    });

    it('of 20 copies of one delivery claimed at once, exactly one is handled', async () => {
      const claims = await Promise.all(
        Array.from({ length: 20 }, () => events.claim('discord:interaction:42')),
      );
      expect(claims.filter((claimed) => claimed)).toHaveLength(1);
      expect(await events.claim('discord:interaction:42')).toBe(false);
    });

    it('forgets keys older than a day, and only those', async () => {
      await events.claim('slack:event:old-1');
      await events.claim('slack:event:old-2');
      now = new Date(now.getTime() + processedEventMemoryMs / 2);
      await events.claim('slack:event:recent');
      now = new Date(now.getTime() + processedEventMemoryMs / 2 + 1);
      expect(await events.forgetOld()).toBe(2);
      expect(await events.forgetOld()).toBe(0);
      // A forgotten key is new again; the recent one is still remembered.
      expect(await events.claim('slack:event:old-1')).toBe(true);
      expect(await events.claim('slack:event:recent')).toBe(false);
    });
  });
});
