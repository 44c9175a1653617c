import { describe, expect, it } from 'vitest';
import { openDatabase } from '../database/open-database.ts';
import { ProcessedEvents } from './processed-events.ts';

describe('ProcessedEvents', () => {
  it('lets a delivery through once and remembers it for a day', () => {
    let now = new Date('2026-03-10T12:00:00Z');
    const events = new ProcessedEvents(openDatabase(':memory:'), () => now);
    expect(events.claim('slack:trigger:123')).toBe(true);
    expect(events.claim('slack:trigger:123')).toBe(false);
    expect(events.claim('slack:trigger:456')).toBe(true);
    now = new Date('2026-03-11T12:00:01Z');
    expect(events.forgetOld()).toBe(2);
    expect(events.claim('slack:trigger:123')).toBe(true);
  });
});
