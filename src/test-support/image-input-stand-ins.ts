/**
 * Stand-in models for images in: one draws from text only, one also redraws an init image, one only
 * enlarges (a real resize). Each records the calls it got, so a test can assert the source image was sent.
 */
import sharp from 'sharp';
import type { GeneratedImage, ImageModelCallOptions } from '../core/providers/image-model.ts';
import { builtInModel, flatPrice } from '../core/providers/model-catalog.ts';
import { defineProvider } from '../core/providers/provider-descriptor.ts';
import { scriptedModel } from './test-services.ts';

/** The provider that declares `texter`, `remixer` and `upscaler`; pass `imageInputStandIns()` as its models. */
export const imageInputProvider = defineProvider({
  name: 'stand-in',
  hosting: 'cloud',
  capabilities: ['text_to_image', 'image_to_image', 'upscale'],
  builtInModels: [
    builtInModel({
      id: 'texter',
      provider: 'stand-in',
      providerModel: 'texter',
      description: 'text only',
      maxImagesPerCall: 1,
      priceUsd: flatPrice(0.01),
    }),
    builtInModel({
      id: 'remixer',
      provider: 'stand-in',
      providerModel: 'remixer',
      description: 'text and image-to-image',
      maxImagesPerCall: 1,
      priceUsd: flatPrice(0.02),
      capabilities: ['text_to_image', 'image_to_image'],
    }),
    builtInModel({
      id: 'upscaler',
      provider: 'stand-in',
      providerModel: 'upscaler',
      description: 'upscales only',
      maxImagesPerCall: 1,
      priceUsd: flatPrice(0.005),
      capabilities: ['upscale'],
    }),
  ],
  isConfigured: () => true,
  createModel: () => {
    throw new Error('the test passes its stand-ins');
  },
});

/** The environment that routes text, image-to-image and upscales to the three stand-ins. */
export const imageInputEnvironment = {
  IMAGE_MODEL: 'texter',
  IMAGE_TO_IMAGE_MODEL: 'remixer',
  UPSCALE_MODEL: 'upscaler',
} as const;

async function solidPng(width: number, height: number): Promise<Uint8Array> {
  const image = sharp({ create: { width, height, channels: 3, background: '#2a6f97' } });
  return new Uint8Array(await image.png().toBuffer());
}

async function drawn(options: ImageModelCallOptions): Promise<GeneratedImage[]> {
  return [{ bytes: await solidPng(options.size.width, options.size.height), mediaType: 'image/png' }];
}

/** Fresh stand-ins (with empty call lists) for one test. */
export function imageInputStandIns() {
  const texter = scriptedModel(drawn, 'texter');
  const remixer = scriptedModel(async (options) => {
    const input = options.inputImages?.[0];
    if (options.task === 'text_to_image' || !input) return drawn(options);
    const bytes = await sharp(input.bytes)
      .resize(options.size.width, options.size.height, { fit: 'fill' })
      .png()
      .toBuffer();
    return [{ bytes: new Uint8Array(bytes), mediaType: 'image/png' }];
  }, 'remixer');
  const upscaler = scriptedModel(async (options) => {
    const input = options.inputImages?.[0];
    const factor = options.upscaleFactor;
    if (options.task !== 'upscale' || !input || !factor) throw new Error('the upscaler only upscales');
    const bytes = await sharp(input.bytes)
      .resize(input.width * factor, input.height * factor, { kernel: 'lanczos3' })
      .png()
      .toBuffer();
    return [{ bytes: new Uint8Array(bytes), mediaType: 'image/png', dimensions: undefined }];
  }, 'upscaler');
  return { texter, remixer, upscaler };
}

/**
 * A stand-in for the embedded `placeholder` model (which declares every task), for front-door tests: draws
 * from text, redraws an init image, or really enlarges it, and records each call.
 */
export function allTasksPlaceholder() {
  const { remixer, upscaler } = imageInputStandIns();
  return scriptedModel((options) =>
    options.task === 'upscale'
      ? upscaler.generate(options).then((result) => result.images)
      : remixer.generate(options).then((result) => result.images),
  );
}
