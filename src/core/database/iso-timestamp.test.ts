import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTimestamp } from './iso-timestamp.ts';

describe('isoTimestamp', () => {
  it('gives exactly what toISOString gives, for any instant in any order', () => {
    fc.assert(
      fc.property(fc.array(fc.date({ noInvalidDate: true }), { minLength: 1, maxLength: 20 }), (instants) => {
        for (const instant of instants) expect(isoTimestamp(instant)).toBe(instant.toISOString());
      }),
    );
  });

  it('formats a new instant afresh after repeating the last one', () => {
    const first = new Date('2026-11-25T10:00:00.000Z');
    expect(isoTimestamp(first)).toBe('2026-11-25T10:00:00.000Z');
    expect(isoTimestamp(new Date(first.getTime()))).toBe('2026-11-25T10:00:00.000Z');
    expect(isoTimestamp(new Date(first.getTime() + 1))).toBe('2026-11-25T10:00:00.001Z');
  });
});
