import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImagineError } from '../../errors/imagine-error.ts';
import { renderImageToImage, renderUpscale } from './placeholder-image-input.ts';
import { placeholderPattern } from './placeholder-render.ts';

const request = {
  prompt: 'a lighthouse on a cliff at sunset',
  seed: 7,
  size: { width: 256, height: 256 },
  style: undefined,
};

/** A checkerboard photo stand-in: nothing like the placeholder's soft pattern. */
async function checkerboard(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const lit = (Math.floor(x / 16) + Math.floor(y / 16)) % 2 === 0;
      pixels.set(lit ? [240, 220, 40] : [20, 30, 120], (y * width + x) * 3);
    }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

async function rgb(image: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(image).resize(width, height).removeAlpha().raw().toBuffer();
}

/** Mean absolute difference per channel, outside the banner band (rows 30%–46%). */
function meanDifference(left: Buffer, right: Buffer, width: number): number {
  let total = 0;
  let count = 0;
  const height = left.length / 3 / width;
  for (let y = 0; y < height; y++) {
    if (y > height * 0.28 && y < height * 0.48) continue;
    for (let index = y * width * 3; index < (y + 1) * width * 3; index++) {
      total += Math.abs((left[index] as number) - (right[index] as number));
      count++;
    }
  }
  return total / count;
}

describe('placeholder image-to-image', () => {
  it('blends the input toward the pattern: closer to the input at low strength, to the pattern at high', async () => {
    const input = await checkerboard(512, 512);
    const source = await rgb(input, 256, 256);
    const pattern = Buffer.from(placeholderPattern(request, 0).canvas.pixels);

    const subtle = await rgb(await renderImageToImage(input, request, 0.25), 256, 256);
    const strong = await rgb(await renderImageToImage(input, request, 0.8), 256, 256);

    expect(meanDifference(subtle, source, 256)).toBeGreaterThan(2);
    expect(meanDifference(subtle, pattern, 256)).toBeGreaterThan(2);
    expect(meanDifference(subtle, source, 256)).toBeLessThan(meanDifference(strong, source, 256));
    expect(meanDifference(strong, pattern, 256)).toBeLessThan(meanDifference(subtle, pattern, 256));
    expect(meanDifference(subtle, source, 256)).toBeLessThan(meanDifference(subtle, pattern, 256));
  });

  it('draws the requested size, the same bytes each time', async () => {
    const input = await checkerboard(300, 200);

    const first = await renderImageToImage(input, request, 0.5);
    const second = await renderImageToImage(input, request, 0.5);

    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true);
    expect(await sharp(first).metadata()).toMatchObject({ format: 'png', width: 256, height: 256 });
  });

  it('at strength 0 is the input itself, under the PLACEHOLDER banner', async () => {
    const input = await checkerboard(256, 256);
    const source = await rgb(input, 256, 256);

    const output = await rgb(await renderImageToImage(input, request, 0), 256, 256);

    expect(meanDifference(output, source, 256)).toBeLessThan(0.5);
    expect(bandDifference(output, source, 256)).toBeGreaterThan(25);
  });

  it('refuses a strength outside 0–1 and bytes that are not an image, naming the field', async () => {
    const input = await checkerboard(64, 64);

    await expect(renderImageToImage(input, request, 1.5)).rejects.toMatchObject({
      code: 'validation_error',
      context: { details: [{ field: 'strength' }] },
    });
    const failure = await renderImageToImage(new TextEncoder().encode('not an image'), request, 0.5).catch(
      (error) => error,
    );
    expect(ImagineError.isInstance(failure)).toBe(true);
    expect(failure).toMatchObject({ code: 'validation_error', context: { details: [{ field: 'image' }] } });
  });
});

describe('placeholder upscale', () => {
  it.each([2, 4] as const)('resizes to %i× the source: a Lanczos resize under the banner', async (factor) => {
    const input = await checkerboard(120, 80);
    const [width, height] = [120 * factor, 80 * factor];

    const upscaled = await renderUpscale(input, factor);

    expect(await sharp(upscaled).metadata()).toMatchObject({ format: 'png', width, height });
    const pixels = await sharp(upscaled).removeAlpha().raw().toBuffer();
    const lanczos = await sharp(input)
      .resize(width, height, { kernel: 'lanczos3' })
      .removeAlpha()
      .raw()
      .toBuffer();
    expect(meanDifference(pixels, lanczos, width)).toBeLessThan(0.5);
    expect(bandDifference(pixels, lanczos, width)).toBeGreaterThan(25);
    expect(Buffer.from(await renderUpscale(input, factor)).equals(Buffer.from(upscaled))).toBe(true);
  });

  it('refuses an upscale past 4096 px a side', async () => {
    const input = await checkerboard(2048, 8);

    await expect(renderUpscale(input, 4)).rejects.toMatchObject({ code: 'validation_error' });
  });
});

/** Mean absolute difference per channel across the banner's band (rows 34%–42%). */
function bandDifference(left: Buffer, right: Buffer, width: number): number {
  const height = left.length / 3 / width;
  let total = 0;
  let count = 0;
  for (let y = Math.ceil(height * 0.34); y < height * 0.42; y++)
    for (let index = y * width * 3; index < (y + 1) * width * 3; index++) {
      total += Math.abs((left[index] as number) - (right[index] as number));
      count++;
    }
  return total / count;
}
