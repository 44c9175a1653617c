import { describe, expect, it } from 'vitest';
import { batchRequestSchema, imageRequestSchema } from './generation-request.ts';
import { cleanPromptText, hasVisibleCharacter } from './prompt-text.ts';

describe('cleanPromptText', () => {
  it('replaces each lone surrogate with one U+FFFD and keeps paired ones', () => {
    expect(cleanPromptText('fox \ud83e')).toBe('fox \ufffd');
    expect(cleanPromptText('\udd8a fox')).toBe('\ufffd fox');
    expect(cleanPromptText('fox \ud83e\udd8a')).toBe('fox 🦊');
  });

  it('composes (NFC) and trims', () => {
    expect(cleanPromptText('  cafe\u0301\n')).toBe('café');
    expect(cleanPromptText('\u1100\u1161')).toBe('가');
  });

  it('gives text that survives a round trip through UTF-8', () => {
    const cleaned = cleanPromptText('a \ud800 b \udfff c');
    expect(Buffer.from(cleaned, 'utf8').toString('utf8')).toBe(cleaned);
  });
});

describe('hasVisibleCharacter', () => {
  it.each([
    '',
    ' \t\n',
    '\u200b\u200c\u200d',
    '\u2060\ufeff',
    '\u00ad\u180e',
    '\u3164\u115f',
    '\u0000\u001f\u007f',
    '\ufe0f',
  ])('finds nothing to see in %j', (text) => {
    expect(hasVisibleCharacter(text)).toBe(false);
  });

  it.each(['a', '\u200bx', '🦊', '猫', '\ufffd'])('finds something to see in %j', (text) => {
    expect(hasVisibleCharacter(text)).toBe(true);
  });
});

describe('prompt fields', () => {
  it('refuses an invisible prompt as empty, in single and batch requests', () => {
    const single = imageRequestSchema.safeParse({ prompt: '\u200b\ufeff' });
    expect(single.error?.issues).toEqual([
      expect.objectContaining({ path: ['prompt'], message: 'prompt must not be empty' }),
    ]);
    const batch = batchRequestSchema.safeParse({ prompts: ['cat', '\u2060'] });
    expect(batch.error?.issues).toEqual([
      expect.objectContaining({ path: ['prompts', 1], message: 'prompt must not be empty' }),
    ]);
    // One message for an empty prompt, not two.
    expect(imageRequestSchema.safeParse({ prompt: '' }).error?.issues).toHaveLength(1);
  });

  it('cleans every prompt field, and an invisible negative prompt is an empty one', () => {
    const parsed = batchRequestSchema.parse({
      prompts: ['cafe\u0301', 'fox \ud83e'],
      negative_prompt: '\u200b ',
    });
    expect(parsed.prompts).toEqual(['café', 'fox \ufffd']);
    expect(parsed.negative_prompt).toBe('');
    expect(imageRequestSchema.parse({ prompt: 'x', negative_prompt: ' blur\u0301 ' }).negative_prompt).toBe(
      'blu\u0155',
    );
  });
});
