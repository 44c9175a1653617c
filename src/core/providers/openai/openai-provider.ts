import { builtInModel } from '../model-catalog.ts';
import { defineProvider, type ProviderContext } from '../provider-descriptor.ts';
import { createOpenAIImageModel, openAIModelCapabilities } from './openai-image-model.ts';

const square1024 = { width: 1024, height: 1024 };

/**
 * OpenAI's images API (OPENAI_API_KEY, OPENAI_BASE_URL). Its models are premium: enterprise-only unless a
 * plan lists them. Servers that only speak OpenAI's wire format have their own provider
 * (`openai-compatible`), so moderation and prompt enhancement never go to an image server by accident.
 */
export const openaiProvider = defineProvider({
  name: 'openai',
  hosting: 'cloud',
  premium: true,
  capabilities: ['text_to_image', 'edit'],
  // A models-file entry edits when its vendor_model is a GPT image model.
  capabilitiesOf: (model) =>
    model.providerModel === undefined ? ['text_to_image'] : openAIModelCapabilities(model.providerModel),
  // OpenAI's list prices per image, by size and quality (an edit's input-image tokens, a few cents at most,
  // are not counted).
  builtInModels: [
    builtInModel({
      id: 'dall-e-3',
      provider: 'openai',
      providerModel: 'dall-e-3',
      premium: true,
      maxImagesPerCall: 1,
      fixedSizes: [square1024, { width: 1792, height: 1024 }, { width: 1024, height: 1792 }],
      description: 'OpenAI DALL·E 3',
      priceUsd: (size, quality) => {
        const square = size.width === size.height;
        if (quality === 'high') return square ? 0.08 : 0.12;
        return square ? 0.04 : 0.08;
      },
    }),
    builtInModel({
      id: 'gpt-image-1',
      provider: 'openai',
      providerModel: 'gpt-image-1',
      premium: true,
      maxImagesPerCall: 4,
      fixedSizes: [square1024, { width: 1536, height: 1024 }, { width: 1024, height: 1536 }],
      description: 'OpenAI gpt-image-1; edits with up to 16 reference images',
      capabilities: ['text_to_image', 'edit'],
      priceUsd: (size, quality) => {
        const square = size.width === size.height;
        if (quality === 'high') return square ? 0.167 : 0.25;
        return square ? 0.042 : 0.063;
      },
    }),
  ],
  checkEntry: (model) => [
    ...(model.providerModel === undefined
      ? [{ field: 'vendor_model', message: 'is required: the OpenAI model id to call' }]
      : []),
    ...(model.fixedSizes === undefined
      ? [{ field: 'sizes', message: 'must list the sizes the model renders (OpenAI takes fixed sizes)' }]
      : []),
  ],
  isConfigured: (model, context) => apiKey(model, context) !== undefined,
  defaultConcurrency: (context) => context.settings.openai.concurrency,
  createModel: (model, context) =>
    createOpenAIImageModel({
      apiKey: apiKey(model, context),
      keyVariable: model.apiKeyEnv ?? 'OPENAI_API_KEY',
      baseUrl: model.baseUrl ?? context.settings.openai.baseUrl,
      descriptor: model,
      retryPolicy: context.retryPolicy,
    }),
});

function apiKey(model: { apiKeyEnv: string | undefined }, context: ProviderContext): string | undefined {
  return model.apiKeyEnv ? context.variable(model.apiKeyEnv) : context.settings.openai.apiKey;
}
