import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImagineError } from '../errors/imagine-error.ts';
import { parsePromptFlags, supportedFlags } from './prompt-flags.ts';

function parseError(text: string): ImagineError {
  try {
    parsePromptFlags(text);
  } catch (error) {
    if (ImagineError.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`expected "${text}" to be refused`);
}

describe('parsePromptFlags', () => {
  it('reads every flag and leaves the prompt clean', () => {
    expect(
      parsePromptFlags(
        'a castle on a hill --ar 16:9 --style Oil Painting --no people, text --seed 42 --model FLUX-DEV --n 4 --raw',
      ),
    ).toEqual({
      prompt: 'a castle on a hill',
      aspectRatio: '16:9',
      style: 'oil_painting',
      negativePrompt: 'people, text',
      seed: 42,
      model: 'flux-dev',
      count: 4,
      enhance: false,
    });
  });

  it('leaves a prompt without flags as it is, hyphens and all', () => {
    expect(parsePromptFlags('  a well-lit room - cosy  ')).toMatchObject({
      prompt: 'a well-lit room - cosy',
      seed: undefined,
    });
  });

  it('accepts a phone-typed em dash for --', () => {
    expect(parsePromptFlags('a fox —ar 9:16').aspectRatio).toBe('9:16');
  });

  it('names the flag in every refusal', () => {
    expect(parseError('a fox --stylez anime').message).toMatch(/^--stylez is not a flag/);
    expect(parseError('a fox --ar 7:3').message).toMatch(/^--ar must be one of/);
    expect(parseError('a fox --seed -1').message).toMatch(/^--seed /);
    expect(parseError('a fox --seed').message).toBe('--seed needs a value');
    expect(parseError('a fox --n 9').message).toBe('--n must be 1, 2, 3 or 4');
    expect(parseError('a fox --style noir-claymation').message).toMatch(
      /^--style "noir-claymation" is not a style/,
    );
    expect(parseError('a fox --seed 1 --seed 2').message).toBe('--seed is given twice');
    expect(parseError('a fox --raw please').message).toBe('--raw takes no value');
    expect(parseError('a fox --ar 5:7').code).toBe('validation_error');
  });

  it('never throws anything but its own error, whatever is typed', () => {
    const pieces = fc.oneof(
      fc.string(),
      fc.constantFrom(
        ...supportedFlags,
        '--',
        '—',
        '--unknown',
        '16:9',
        '42',
        'anime',
        'flux-dev',
        ' ',
        '\n',
      ),
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 12 }), (parts) => {
        const text = parts.join(' ');
        try {
          const parsed = parsePromptFlags(text);
          expect(parsed.prompt).not.toMatch(/(^|\s)--\S/);
        } catch (error) {
          expect(ImagineError.isInstance(error) && error.code === 'validation_error').toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
