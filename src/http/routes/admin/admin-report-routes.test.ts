import { describe, expect, it } from 'vitest';
import { csvField } from './admin-report-routes.ts';

describe('the usage CSV’s fields', () => {
  it('leaves plain values as they are', () => {
    expect(['alice', 'pro', '12', '0.04', '-0.5', 'discord:4242'].map(csvField)).toEqual([
      'alice',
      'pro',
      '12',
      '0.04',
      '-0.5',
      'discord:4242',
    ]);
  });

  it('quotes a value with a comma, quote or line break, doubling its quotes (RFC 4180)', () => {
    expect(csvField('acme, inc')).toBe('"acme, inc"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('keeps a uid a spreadsheet would run as a formula from being one', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvField('+1+1')).toBe("'+1+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-x')).toBe("'-x");
  });
});
