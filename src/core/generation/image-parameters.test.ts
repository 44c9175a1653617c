import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { embedParameters, parametersText, readPngText, withPngText } from './image-parameters.ts';

const parameters = {
  prompt: 'a lighthouse at dusk, highly detailed',
  negativePrompt: 'blurry',
  seed: 42,
  size: { width: 64, height: 48 },
  model: 'flux-dev',
  strength: undefined,
};

async function plainImage(format: 'png' | 'jpeg' | 'webp'): Promise<Uint8Array> {
  const image = sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366aa' } });
  return new Uint8Array(await image[format]().toBuffer());
}

describe('image parameters', () => {
  it('writes the AUTOMATIC1111 parameters text', () => {
    expect(parametersText(parameters)).toBe(
      'a lighthouse at dusk, highly detailed\nNegative prompt: blurry\nSeed: 42, Size: 64x48, Model: flux-dev',
    );
    expect(
      parametersText({ ...parameters, negativePrompt: undefined, seed: undefined, strength: 0.35 }),
    ).toBe('a lighthouse at dusk, highly detailed\nSize: 64x48, Model: flux-dev, Denoising strength: 0.35');
  });

  it('puts a parameters chunk in a PNG that sharp still decodes, pixels untouched', async () => {
    const png = await plainImage('png');
    const tagged = await embedParameters({ bytes: png, mediaType: 'image/png' }, parameters);
    expect(readPngText(tagged).parameters).toBe(parametersText(parameters));
    const before = await sharp(png).raw().toBuffer();
    const after = await sharp(tagged).raw().toBuffer();
    expect(after.equals(before)).toBe(true);
    // libvips reads the chunk back too: the CRC is right.
    const metadata = await sharp(tagged).metadata();
    expect(JSON.stringify(metadata.comments)).toContain('Negative prompt: blurry');
  });

  it('keeps a prompt outside Latin-1 intact (iTXt)', async () => {
    const png = await plainImage('png');
    const tagged = withPngText(png, 'parameters', '富士山 at dawn');
    expect(tagged && readPngText(tagged).parameters).toBe('富士山 at dawn');
    expect(tagged && (await sharp(tagged).metadata()).width).toBe(64);
  });

  it('writes the same text as EXIF UserComment in a JPEG and a WebP', async () => {
    for (const [format, mediaType] of [
      ['jpeg', 'image/jpeg'],
      ['webp', 'image/webp'],
    ] as const) {
      const tagged = await embedParameters({ bytes: await plainImage(format), mediaType }, parameters);
      const metadata = await sharp(tagged).metadata();
      expect(metadata.format).toBe(format);
      expect(metadata.exif?.toString('latin1')).toContain('Negative prompt: blurry');
    }
  });

  it("keeps a PNG's own parameters (AUTOMATIC1111 writes them with its steps and sampler)", async () => {
    const own = withPngText(
      await plainImage('png'),
      'parameters',
      'a cat\nSteps: 30, Sampler: Euler a, Seed: 1',
    );
    if (!own) throw new Error('not a PNG');
    const tagged = await embedParameters({ bytes: own, mediaType: 'image/png' }, parameters);
    expect(tagged).toBe(own);
    expect(readPngText(tagged).parameters).toBe('a cat\nSteps: 30, Sampler: Euler a, Seed: 1');
  });

  it('leaves bytes that are not a PNG as they are', async () => {
    const notPng = Uint8Array.from([1, 2, 3, 4]);
    expect(await embedParameters({ bytes: notPng, mediaType: 'image/png' }, parameters)).toBe(notPng);
  });
});
