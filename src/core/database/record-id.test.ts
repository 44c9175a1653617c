import { describe, expect, it } from 'vitest';
import { newRecordId } from './record-id.ts';

describe('newRecordId', () => {
  it('is a version 7 UUID that sorts by creation time', () => {
    const earlier = newRecordId(new Date('2026-03-11T12:00:00.000Z'));
    const later = newRecordId(new Date('2026-03-11T12:00:00.001Z'));
    expect(earlier).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(earlier < later).toBe(true);
    expect(Number.parseInt(earlier.replace('-', '').slice(0, 12), 16)).toBe(
      Date.parse('2026-03-11T12:00:00.000Z'),
    );
  });

  it('never repeats, and keeps increasing within one millisecond (a batch keeps its order)', () => {
    const instant = new Date('2026-03-10T12:00:00Z');
    const ids = Array.from({ length: 10_000 }, () => newRecordId(instant));
    expect(new Set(ids).size).toBe(10_000);
    expect([...ids].sort()).toEqual(ids);
  });
});
