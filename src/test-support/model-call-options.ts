import type { ImageModelCallOptions } from '../core/providers/image-model.ts';

/** A model call as the core makes one, every key present; tests override what they are about. */
export function modelCallOptions(overrides: Partial<ImageModelCallOptions> = {}): ImageModelCallOptions {
  return {
    task: 'text_to_image',
    prompt: 'a lighthouse on a cliff at sunset',
    negativePrompt: undefined,
    n: 1,
    size: { width: 1024, height: 1024 },
    aspectRatio: undefined,
    seed: undefined,
    quality: 'standard',
    style: undefined,
    abortSignal: undefined,
    resumeProviderRequestId: undefined,
    onProviderRequest: undefined,
    onProgress: undefined,
    onQueued: undefined,
    inputImages: undefined,
    strength: undefined,
    upscaleFactor: undefined,
    ...overrides,
  };
}
