import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { modelCallOptions } from '../../../test-support/model-call-options.ts';
import { ImagineError } from '../../errors/imagine-error.ts';
import type { ImageModelCallOptions } from '../image-model.ts';
import { createPlaceholderImageModel, placeholderModelId } from './placeholder-image-model.ts';

const clock = () => new Date('2025-03-01T12:00:00.000Z');
const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function callOptions(overrides: Partial<ImageModelCallOptions> = {}): ImageModelCallOptions {
  return modelCallOptions({ seed: 7, ...overrides });
}

async function firstImage(overrides: Partial<ImageModelCallOptions> = {}): Promise<Buffer> {
  const model = createPlaceholderImageModel({ delayMs: 0, now: clock });
  const result = await model.generate(callOptions(overrides));
  const image = result.images[0];
  if (!image) throw new Error('no image returned');
  return Buffer.from(image.bytes);
}

describe('placeholder image model', () => {
  it.each([
    [1024, 1024],
    [1344, 768],
    [768, 1344],
  ])('draws a %ix%i PNG of exactly the size asked for', async (width, height) => {
    const bytes = await firstImage({ size: { width, height } });

    expect([...bytes.subarray(0, 8)]).toEqual(pngSignature);
    const metadata = await sharp(bytes).metadata();
    expect(metadata).toMatchObject({ format: 'png', width, height });
  });

  it('draws a picture, not a flat colour', async () => {
    const stats = await sharp(await firstImage()).stats();

    const colourChannels = stats.channels.slice(0, 3);
    expect(colourChannels).toHaveLength(3);
    for (const channel of colourChannels) {
      expect(channel.max - channel.min).toBeGreaterThan(100);
      expect(channel.stdev).toBeGreaterThan(10);
    }
  });

  it('gives the same bytes for the same prompt, seed, style and size', async () => {
    const style = {
      name: 'anime',
      label: 'Anime',
      description: '',
      modifiers: [],
      negativePrompt: undefined,
    };

    const first = await firstImage({ style });
    const second = await firstImage({ style });

    expect(first.equals(second)).toBe(true);
  });

  it('gives the same bytes whatever was drawn before it', async () => {
    const size = { width: 1024, height: 768 };
    const first = await firstImage({ size });
    // A larger image and a different one of the same size in between: nothing of them may show.
    await firstImage({ seed: 99, size: { width: 1536, height: 1536 } });
    await firstImage({ seed: 100, size });
    const again = await firstImage({ size });

    expect(first.equals(again)).toBe(true);
  });

  it('gives a different image for a different seed or style', async () => {
    const seeded = await firstImage({ seed: 7 });
    const reseeded = await firstImage({ seed: 8 });
    const styled = await firstImage({
      seed: 7,
      style: {
        name: 'watercolor',
        label: 'Watercolor',
        description: '',
        modifiers: [],
        negativePrompt: undefined,
      },
    });

    expect(seeded.equals(reseeded)).toBe(false);
    expect(seeded.equals(styled)).toBe(false);
  });

  it('returns n images, image k drawn as if asked with seed + k', async () => {
    const model = createPlaceholderImageModel({ delayMs: 0, now: clock });

    const batch = await model.generate(callOptions({ n: 2, seed: 41, size: { width: 256, height: 256 } }));
    const alone = await firstImage({ seed: 42, size: { width: 256, height: 256 } });

    expect(batch.images).toHaveLength(2);
    const [first, second] = batch.images.map((image) => Buffer.from(image.bytes));
    expect(first?.equals(second ?? Buffer.alloc(0))).toBe(false);
    expect(second?.equals(alone)).toBe(true);
  });

  it('costs nothing and reports itself as the placeholder model', async () => {
    const model = createPlaceholderImageModel({ delayMs: 0, now: clock });

    const result = await model.generate(callOptions());

    expect(model).toMatchObject({
      provider: 'placeholder',
      modelId: placeholderModelId,
      maxImagesPerCall: 1,
    });
    expect(result.images[0]?.mediaType).toBe('image/png');
    expect(result.usage).toEqual({ costUsd: 0 });
    expect(result.warnings).toEqual([]);
    expect(result.response).toEqual({
      modelId: 'placeholder',
      timestamp: clock(),
      providerRequestId: undefined,
      revisedPrompt: undefined,
    });
  });

  it('warns that a negative prompt has no effect', async () => {
    const model = createPlaceholderImageModel({ delayMs: 0, now: clock });

    const result = await model.generate(callOptions({ negativePrompt: 'blurry, text' }));

    expect(result.images).toHaveLength(1);
    expect(result.warnings).toEqual([
      { type: 'unsupported', feature: 'negative_prompt', detail: expect.stringContaining('negative prompt') },
    ]);
  });

  it('draws prompts with markup characters, accents, emoji and very long words', async () => {
    const prompts = [
      'a <b>bold</b> & "quoted" cat\'s > dog',
      'café crème — naïve “smart quotes” 🦊 and\nnew lines',
      'x'.repeat(3000),
    ];

    for (const prompt of prompts) {
      const metadata = await sharp(
        await firstImage({ prompt, size: { width: 512, height: 512 } }),
      ).metadata();
      expect(metadata).toMatchObject({ format: 'png', width: 512, height: 512 });
    }
  });

  it('waits delayMs before answering, like a real provider', async () => {
    const model = createPlaceholderImageModel({ delayMs: 60, now: clock });
    const started = performance.now();

    await model.generate(callOptions({ size: { width: 256, height: 256 } }));

    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('stops waiting as soon as the request is cancelled', async () => {
    const model = createPlaceholderImageModel({ delayMs: 10_000, now: clock });
    const controller = new AbortController();
    const reason = new Error('the client closed the connection');
    const started = performance.now();

    const generation = model.generate(callOptions({ abortSignal: controller.signal }));
    setTimeout(() => controller.abort(reason), 20);

    await expect(generation).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses at once when the request was cancelled before it started', async () => {
    const model = createPlaceholderImageModel({ delayMs: 10_000, now: clock });
    const controller = new AbortController();
    controller.abort();

    await expect(model.generate(callOptions({ abortSignal: controller.signal }))).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('rejects a size it cannot draw with a validation error naming the size', async () => {
    const model = createPlaceholderImageModel({ delayMs: 0, now: clock });

    const failure = await model
      .generate(callOptions({ size: { width: 0, height: 1024 } }))
      .catch((error) => error);

    expect(ImagineError.isInstance(failure)).toBe(true);
    expect(failure).toMatchObject({ code: 'validation_error', message: expect.stringContaining('0x1024') });
  });
});

describe('placeholder progress', () => {
  it('reports rising progress below 1 while it waits, as a real backend would', async () => {
    const reported: number[] = [];
    const model = createPlaceholderImageModel({ delayMs: 200 });
    const result = await model.generate(
      modelCallOptions({ size: { width: 64, height: 64 }, onProgress: (value) => reported.push(value) }),
    );
    expect(result.images).toHaveLength(1);
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.every((value) => value > 0 && value < 1)).toBe(true);
    expect([...reported].sort((left, right) => left - right)).toEqual(reported);
  });
});

describe('placeholder prompt text', () => {
  /** The prompt panel's pixels (the bottom 30% of a 512² image), where the prompt is drawn. */
  async function promptRegion(prompt: string): Promise<Buffer> {
    const image = await firstImage({ prompt, size: { width: 512, height: 512 } });
    return sharp(image).extract({ left: 0, top: 358, width: 512, height: 154 }).raw().toBuffer();
  }

  it('draws Latin accents, Arabic and Japanese in real glyphs, not the fallback ?', async () => {
    const scripts = await promptRegion('Café پاکستان 日本');
    const fallback = await promptRegion('Caf? ??????? ??');
    const again = await promptRegion('Café پاکستان 日本');

    expect(scripts.equals(fallback)).toBe(false);
    expect(scripts.equals(again)).toBe(true);
    // Each script changes the drawing: none of them falls back to the same shape as another.
    const latinOnly = await promptRegion('Café ??????? ??');
    const arabicOnly = await promptRegion('Caf? پاکستان ??');
    expect(latinOnly.equals(fallback)).toBe(false);
    expect(arabicOnly.equals(fallback)).toBe(false);
  });

  it('sets a right-to-left prompt against the right edge, a left-to-right one against the left', async () => {
    /** Mean column of the prompt's white letters (the details line under them is dimmer). */
    async function inkCentre(prompt: string): Promise<number> {
      const image = await firstImage({ prompt, size: { width: 512, height: 512 } });
      const { data } = await sharp(image)
        .extract({ left: 0, top: 400, width: 512, height: 112 })
        .greyscale()
        .raw()
        .toBuffer({ resolveWithObject: true });
      let sum = 0;
      let count = 0;
      data.forEach((value, index) => {
        if (value <= 225) return;
        sum += index % 512;
        count++;
      });
      expect(count).toBeGreaterThan(20);
      return sum / count;
    }

    expect(await inkCentre('پاکستان')).toBeGreaterThan(300);
    expect(await inkCentre('Pakistan')).toBeLessThan(200);
  });

  it('writes the prompt in lower case as typed, not only upper-case ASCII', async () => {
    const lower = await promptRegion('a lighthouse');
    const upper = await promptRegion('A LIGHTHOUSE');

    expect(lower.equals(upper)).toBe(false);
  });
});

describe('placeholder tasks with an input image', () => {
  async function inputImage(width: number, height: number) {
    const bytes = await sharp({
      create: { width, height, channels: 3, background: { r: 200, g: 40, b: 40 } },
    })
      .png()
      .toBuffer();
    return { bytes: new Uint8Array(bytes), mediaType: 'image/png' as const, width, height };
  }

  it('upscales by the factor and derives image-to-image from the input, deterministically', async () => {
    const model = createPlaceholderImageModel({ delayMs: 0 });
    const source = await inputImage(200, 100);
    const upscaled = await model.generate(
      modelCallOptions({ task: 'upscale', inputImages: [source], upscaleFactor: 4 }),
    );
    expect(await sharp(upscaled.images[0]?.bytes).metadata()).toMatchObject({ width: 800, height: 400 });

    const call = modelCallOptions({
      task: 'image_to_image',
      inputImages: [source],
      strength: 0.2,
      size: { width: 256, height: 256 },
      seed: 3,
    });
    const first = await model.generate(call);
    const again = await model.generate(call);
    expect(Buffer.from(first.images[0]?.bytes ?? [])).toEqual(Buffer.from(again.images[0]?.bytes ?? []));
    // At a low strength the result stays close to the (red) input in the middle, away from the banner.
    const { data } = await sharp(first.images[0]?.bytes)
      .extract({ left: 120, top: 120, width: 16, height: 16 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(120);
  });

  it('refuses a task that brings no image', async () => {
    const model = createPlaceholderImageModel({ delayMs: 0 });
    await expect(model.generate(modelCallOptions({ task: 'upscale', upscaleFactor: 2 }))).rejects.toThrow(
      /input image/,
    );
  });
});
