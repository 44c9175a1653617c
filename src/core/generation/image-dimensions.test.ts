import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aspectRatioOf,
  aspectRatios,
  maximumSide,
  minimumSide,
  parseSize,
  resolveDimensions,
} from './image-dimensions.ts';

describe('image dimensions', () => {
  it('parses WIDTHxHEIGHT and nothing else', () => {
    expect(parseSize('1024x768')).toEqual({ width: 1024, height: 768 });
    expect(parseSize('1024X768')).toEqual({ width: 1024, height: 768 });
    expect(parseSize('1024*768')).toBeUndefined();
    expect(parseSize('big')).toBeUndefined();
  });

  it('keeps the size as asked when no aspect ratio is given', () => {
    expect(resolveDimensions({ width: 1000, height: 700 }, undefined)).toEqual({ width: 1000, height: 700 });
  });

  it('follows the aspect ratio and keeps roughly the pixel budget of size', () => {
    expect(resolveDimensions({ width: 1024, height: 1024 }, '1:1')).toEqual({ width: 1024, height: 1024 });
    expect(resolveDimensions({ width: 1024, height: 1024 }, '16:9')).toEqual({ width: 1360, height: 768 });
    expect(resolveDimensions({ width: 1024, height: 1024 }, '9:16')).toEqual({ width: 768, height: 1360 });
  });

  it('always yields sides in range on the 16-pixel grid, close to the ratio', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: minimumSide, max: maximumSide }),
        fc.integer({ min: minimumSide, max: maximumSide }),
        fc.constantFrom(...aspectRatios),
        (width, height, ratio) => {
          const size = resolveDimensions({ width, height }, ratio);
          const [ratioWidth, ratioHeight] = ratio.split(':').map(Number) as [number, number];
          for (const side of [size.width, size.height]) {
            expect(side).toBeGreaterThanOrEqual(minimumSide);
            expect(side).toBeLessThanOrEqual(maximumSide);
            expect(side % 16).toBe(0);
          }
          expect(
            Math.abs(size.width / size.height - ratioWidth / ratioHeight) / (ratioWidth / ratioHeight),
          ).toBeLessThan(0.1);
        },
      ),
    );
  });

  it('names the exact aspect ratio of a size, when it has one', () => {
    expect(aspectRatioOf({ width: 1024, height: 1024 })).toBe('1:1');
    expect(aspectRatioOf({ width: 1920, height: 1080 })).toBe('16:9');
    expect(aspectRatioOf({ width: 1000, height: 700 })).toBeUndefined();
  });
});
