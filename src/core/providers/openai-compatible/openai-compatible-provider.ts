import { defineProvider } from '../provider-descriptor.ts';
import { throwUnlessReady, variablesOf } from '../self-hosted-context.ts';
import { createOpenAICompatibleImageModel, probeOpenAICompatible } from './openai-compatible-image-model.ts';

/**
 * Any server that speaks OpenAI's `/v1/images/generations` (LocalAI, vLLM-style servers): its own
 * `base_url`, `vendor_model` and sizes. Separate from OPENAI_BASE_URL, which keeps meaning OpenAI itself,
 * so moderation and prompt enhancement never go to an image server by accident.
 */
export const openaiCompatibleProvider = defineProvider({
  name: 'openai-compatible',
  hosting: 'self-hosted',
  capabilities: ['text_to_image'],
  isConfigured: (model, context) =>
    model.apiKeyEnv === undefined || context.variable(model.apiKeyEnv) !== undefined,
  createModel: (model, context) =>
    createOpenAICompatibleImageModel({
      modelId: model.id,
      baseUrl: model.baseUrl ?? '',
      vendorModel: model.providerModel,
      apiKeyEnv: model.apiKeyEnv,
      env: variablesOf(context),
      sizes: model.fixedSizes,
      maxImagesPerCall: model.maxImagesPerCall,
      timeoutMs: model.timeoutMs ?? context.retryPolicy.deadlineMs,
      downloadRules: { maxBytes: context.settings.downloadMaxBytes },
      logger: context.logger,
    }),
  probe: (model, context, signal) =>
    throwUnlessReady(
      probeOpenAICompatible({
        baseUrl: model.baseUrl ?? '',
        vendorModel: model.providerModel,
        apiKeyEnv: model.apiKeyEnv,
        env: variablesOf(context),
        fetch: (input, init) => fetch(input, { ...init, signal }),
      }),
    ),
});
