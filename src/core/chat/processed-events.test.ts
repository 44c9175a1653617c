import { describe, expect, it } from 'vitest';
import { openDatabase } from '../database/open-database.ts';
import { ProcessedEvents } from './processed-events.ts';
import { SqliteProcessedEventStore } from './sqlite/sqlite-processed-event-store.ts';

describe('ProcessedEvents', () => {
  it('lets a delivery through once and remembers it for a day', async () => {
    let now = new Date('2026-03-10T12:00:00Z');
    const events = new ProcessedEvents(new SqliteProcessedEventStore(openDatabase(':memory:')), () => now);
    expect(await events.claim('slack:trigger:123')).toBe(true);
    expect(await events.claim('slack:trigger:123')).toBe(false);
    expect(await events.claim('slack:trigger:456')).toBe(true);
    now = new Date('2026-03-11T12:00:01Z');
    expect(await events.forgetOld()).toBe(2);
    expect(await events.claim('slack:trigger:123')).toBe(true);
  });
});
