import { describe, expect, it } from 'vitest';
import { aspectRatios, resolveDimensions } from '../generation/image-dimensions.ts';
import { nearestAspectRatio, reproductionCommand } from './reproduction-command.ts';

const image = {
  prompt: 'a wide bay',
  promptUsed: 'a wide bay, highly detailed',
  width: 1360,
  height: 768,
  style: undefined,
  seed: undefined,
  model: 'flux-schnell',
};

describe('nearestAspectRatio', () => {
  it('finds the ratio every size the service renders was asked with', () => {
    for (const side of [256, 512, 768, 1024, 1536, 2048]) {
      const budget = { width: side, height: side };
      for (const ratio of aspectRatios) {
        const size = resolveDimensions(budget, ratio);
        expect(nearestAspectRatio(size.width, size.height), `${ratio} as ${size.width}×${size.height}`).toBe(
          ratio,
        );
      }
    }
  });

  it('names no ratio for a shape far from all of them', () => {
    expect(nearestAspectRatio(1000, 1130)).toBeUndefined();
  });
});

describe('reproductionCommand', () => {
  it('gives each platform the same flags, after its own lead', () => {
    expect(reproductionCommand(image, '/imagine prompt:')).toBe(
      '/imagine prompt:a wide bay --ar 16:9 --model flux-schnell',
    );
    expect(reproductionCommand(image, '/imagine ')).toBe(
      '/imagine a wide bay --ar 16:9 --model flux-schnell',
    );
  });

  it('carries style, seed and --raw when the prompt went out as written, and no --ar for a square', () => {
    expect(
      reproductionCommand(
        { ...image, width: 1024, height: 1024, promptUsed: image.prompt, style: 'anime', seed: 0 },
        '/imagine ',
      ),
    ).toBe('/imagine a wide bay --style anime --seed 0 --model flux-schnell --raw');
  });
});
