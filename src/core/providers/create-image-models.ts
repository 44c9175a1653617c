import type { Logger } from 'pino';
import type { ProviderSettings } from '../../config/load-config.ts';
import { defaultRetryPolicy, type RetryPolicy } from './call-with-retries.ts';
import { limitConcurrency } from './concurrency-limit.ts';
import type { ImageModel } from './image-model.ts';
import { modelCatalog } from './model-catalog.ts';
import { createOpenAIImageModel } from './openai/openai-image-model.ts';
import { createPlaceholderImageModel } from './placeholder/placeholder-image-model.ts';
import { createReplicateImageModel } from './replicate/replicate-image-model.ts';

/**
 * Every model in the catalog, ready to call. Real providers are built even without credentials: a call
 * then fails as `credentials`, which routing treats as "try the next model", and the log names the variable
 * to set. Calls to one provider share its concurrency limit.
 */
export function createImageModels(settings: {
  providers: ProviderSettings;
  placeholderDelayMs: number;
  logger: Logger;
}): ImageModel[] {
  const { providers, logger } = settings;
  const retryPolicy: RetryPolicy = {
    ...defaultRetryPolicy,
    deadlineMs: providers.deadlineMs,
    attemptTimeoutMs: Math.min(defaultRetryPolicy.attemptTimeoutMs, providers.deadlineMs),
  };
  const models = modelCatalog.map((descriptor): ImageModel => {
    if (descriptor.provider === 'placeholder') {
      return createPlaceholderImageModel({ delayMs: settings.placeholderDelayMs });
    }
    if (descriptor.provider === 'replicate') {
      return createReplicateImageModel({
        apiToken: providers.replicate.apiToken,
        descriptor,
        retryPolicy,
        downloadRules: { maxBytes: providers.downloadMaxBytes },
        logger,
      });
    }
    return createOpenAIImageModel({
      apiKey: providers.openai.apiKey,
      baseUrl: providers.openai.baseUrl,
      descriptor,
      retryPolicy,
    });
  });
  return limitConcurrency(models, {
    replicate: providers.replicate.concurrency,
    openai: providers.openai.concurrency,
  });
}
