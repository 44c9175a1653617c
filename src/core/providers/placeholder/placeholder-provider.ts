import { builtInModel, flatPrice } from '../model-catalog.ts';
import { defineProvider } from '../provider-descriptor.ts';
import { createPlaceholderImageModel, placeholderModelId } from './placeholder-image-model.ts';

/** The offline renderer: always configured, free, and the default when no provider credentials are set. */
export const placeholderProvider = defineProvider({
  name: 'placeholder',
  // Runs in this process: nothing to share a limit with, so calls are not queued.
  hosting: 'cloud',
  // Every task, offline, so each flow can be tried before any provider is set up.
  capabilities: ['text_to_image', 'image_to_image', 'edit', 'upscale'],
  builtInModels: [
    builtInModel({
      id: placeholderModelId,
      provider: 'placeholder',
      providerModel: 'placeholder',
      maxImagesPerCall: 1,
      description: 'Offline placeholder renderer (no AI; for trying the service out)',
      priceUsd: flatPrice(0),
      capabilities: ['text_to_image', 'image_to_image', 'edit', 'upscale'],
    }),
  ],
  isConfigured: () => true,
  createModel: (model, context) =>
    createPlaceholderImageModel({ delayMs: context.settings.placeholderDelayMs, modelId: model.id }),
});
