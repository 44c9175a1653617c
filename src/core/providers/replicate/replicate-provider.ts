import { builtInModel, flatPrice } from '../model-catalog.ts';
import { defineProvider, type ProviderContext } from '../provider-descriptor.ts';
import { createReplicateImageModel } from './replicate-image-model.ts';
import { isKnownReplicateModel } from './replicate-options.ts';

const flux = (id: string, vendorModel: string, maxImagesPerCall: number, price: number, blurb: string) =>
  builtInModel({
    id,
    provider: 'replicate',
    providerModel: vendorModel,
    maxImagesPerCall,
    description: `Replicate ${vendorModel}: ${blurb}`,
    priceUsd: flatPrice(price),
  });

/**
 * Replicate's official Flux models, as vercel/ai's `createReplicate()`: one token (REPLICATE_API_TOKEN, or
 * the variable an entry's `api_key_env` names) and a model per `owner/name` we have an input mapping for.
 */
export const replicateProvider = defineProvider({
  name: 'replicate',
  hosting: 'cloud',
  capabilities: ['text_to_image'],
  // Prices are Replicate's list prices per image.
  builtInModels: [
    flux('flux-schnell', 'black-forest-labs/flux-schnell', 4, 0.003, 'fast, cheap'),
    flux('flux-dev', 'black-forest-labs/flux-dev', 4, 0.025, 'higher quality, slower'),
    flux('flux-1.1-pro', 'black-forest-labs/flux-1.1-pro', 1, 0.04, 'best Flux quality'),
  ],
  checkEntry: (model) =>
    model.providerModel !== undefined && isKnownReplicateModel(model.providerModel)
      ? []
      : [
          {
            field: 'vendor_model',
            message:
              'must be a Replicate model this service has an input mapping for: black-forest-labs/flux-schnell, flux-dev or flux-1.1-pro',
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
