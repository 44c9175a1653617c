import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findStylePreset, stylePresets } from '../styles/style-presets.ts';
import { enhancePrompt } from './prompt-enhancer.ts';

const realistic = findStylePreset('realistic');

describe('enhancePrompt', () => {
  it('puts the style first, then quality terms, after the words the user wrote', () => {
    const result = enhancePrompt({
      prompt: 'Flutter logo in office of pakistan',
      style: realistic,
      enhance: true,
      negativePrompt: undefined,
    });
    expect(result.promptUsed).toMatch(/^Flutter logo in office of pakistan, photorealistic, /);
    expect(result.promptUsed).toContain('highly detailed');
  });

  it('leaves the prompt alone when there is no style and enhancement is off', () => {
    const result = enhancePrompt({
      prompt: '  a red fox  ',
      style: undefined,
      enhance: false,
      negativePrompt: undefined,
    });
    expect(result).toEqual({ promptUsed: 'a red fox', negativePrompt: undefined });
  });

  it('adds the style even when enhancement is off, but no quality terms', () => {
    const result = enhancePrompt({
      prompt: 'a castle',
      style: findStylePreset('watercolor'),
      enhance: false,
      negativePrompt: undefined,
    });
    expect(result.promptUsed).toMatch(/^a castle, watercolor painting/);
    expect(result.promptUsed).not.toContain('highly detailed');
  });

  it('does not repeat a word the prompt already has', () => {
    const result = enhancePrompt({
      prompt: 'a highly detailed photorealistic portrait in natural light, sharp',
      style: realistic,
      enhance: true,
      negativePrompt: undefined,
    });
    const added = result.promptUsed.slice(
      'a highly detailed photorealistic portrait in natural light, sharp'.length,
    );
    expect(added).not.toMatch(/photorealistic|highly detailed|sharp/);
    // "natural lighting" is not added either: "natural" is already there.
    expect(added).not.toContain('natural');
  });

  it('drops trailing punctuation before appending terms', () => {
    const result = enhancePrompt({
      prompt: 'A lighthouse at dusk.',
      style: undefined,
      enhance: true,
      negativePrompt: undefined,
    });
    expect(result.promptUsed).toMatch(/^A lighthouse at dusk, highly detailed/);
  });

  it("keeps the user's negative prompt first and adds the style's without duplicates", () => {
    const result = enhancePrompt({
      prompt: 'a cat',
      style: realistic,
      enhance: false,
      negativePrompt: 'people, Cartoon',
    });
    expect(result.negativePrompt).toMatch(/^people, Cartoon, illustration/);
    expect(result.negativePrompt?.match(/cartoon/gi)).toHaveLength(1);
  });

  it('is deterministic and never repeats a word in what it adds, for any prompt and style', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.constantFrom(undefined, ...stylePresets),
        fc.boolean(),
        (prompt, style, enhance) => {
          const input = { prompt, style, enhance, negativePrompt: undefined };
          const first = enhancePrompt(input);
          expect(enhancePrompt(input)).toEqual(first);
          const addedPart = first.promptUsed.slice(prompt.trim().replace(/[\s.,;:]+$/u, '').length);
          const words = (addedPart.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter(
            (word) => word.length > 2,
          );
          expect(new Set(words).size).toBe(words.length);
        },
      ),
    );
  });
});
