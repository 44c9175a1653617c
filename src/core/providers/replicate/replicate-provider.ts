import { builtInModel, flatPrice } from '../model-catalog.ts';
import { defineProvider, type ProviderContext } from '../provider-descriptor.ts';
import { createReplicateImageModel } from './replicate-image-model.ts';
import { isKnownReplicateModel, realEsrganModel, replicateModelCapabilities } from './replicate-options.ts';

const flux = (id: string, vendorModel: string, maxImagesPerCall: number, price: number, blurb: string) =>
  builtInModel({
    id,
    provider: 'replicate',
    providerModel: vendorModel,
    maxImagesPerCall,
    description: `Replicate ${vendorModel}: ${blurb}`,
    priceUsd: flatPrice(price),
    capabilities: replicateModelCapabilities(vendorModel),
  });

/**
 * Replicate's official Flux models, as vercel/ai's `createReplicate()`: one token (REPLICATE_API_TOKEN, or
 * the variable an entry's `api_key_env` names) and a model per `owner/name` we have an input mapping for.
 */
export const replicateProvider = defineProvider({
  name: 'replicate',
  hosting: 'cloud',
  capabilities: ['text_to_image', 'image_to_image', 'edit', 'upscale'],
  // Prices are Replicate's list prices per image; Real-ESRGAN is billed by GPU time, and $0.0025 is what
  // its page gives for a typical run.
  builtInModels: [
    flux('flux-schnell', 'black-forest-labs/flux-schnell', 4, 0.003, 'fast, cheap'),
    flux('flux-dev', 'black-forest-labs/flux-dev', 4, 0.025, 'higher quality, slower; image-to-image'),
    flux('flux-1.1-pro', 'black-forest-labs/flux-1.1-pro', 1, 0.04, 'best Flux quality'),
    flux('flux-kontext-pro', 'black-forest-labs/flux-kontext-pro', 1, 0.04, 'edits an image by instruction'),
    flux('real-esrgan', realEsrganModel, 1, 0.0025, 'upscales 2× or 4×'),
  ],
  // A models-file entry can do what its vendor_model's input mapping can (flux-dev: image_to_image too).
  capabilitiesOf: (model) =>
    model.providerModel === undefined ? [] : replicateModelCapabilities(model.providerModel),
  checkEntry: (model) =>
    model.providerModel !== undefined && isKnownReplicateModel(model.providerModel)
      ? []
      : [
          {
            field: 'vendor_model',
            message: `must be a Replicate model this service has an input mapping for: black-forest-labs/flux-schnell, flux-dev, flux-1.1-pro or flux-kontext-pro, or ${realEsrganModel}`,
          },
        ],
  isConfigured: (model, context) => apiToken(model, context) !== undefined,
  defaultConcurrency: (context) => context.settings.replicate.concurrency,
  createModel: (model, context) =>
    createReplicateImageModel({
      apiToken: apiToken(model, context),
      tokenVariable: model.apiKeyEnv ?? 'REPLICATE_API_TOKEN',
      descriptor: model,
      retryPolicy: context.retryPolicy,
      downloadRules: { maxBytes: context.settings.downloadMaxBytes },
      logger: context.logger,
    }),
});

function apiToken(model: { apiKeyEnv: string | undefined }, context: ProviderContext): string | undefined {
  return model.apiKeyEnv ? context.variable(model.apiKeyEnv) : context.settings.replicate.apiToken;
}
