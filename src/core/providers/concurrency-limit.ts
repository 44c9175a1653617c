import pLimit from 'p-limit';
import type { ImageModel } from './image-model.ts';

/**
 * Wraps models so that at most `limits[provider]` calls to one provider run at once, across all its models:
 * a burst of requests queues here instead of tripping the operator's provider rate limit. Providers
 * without a limit are returned as they are.
 */
export function limitConcurrency(
  models: readonly ImageModel[],
  limits: Readonly<Record<string, number>>,
): ImageModel[] {
  const limiters = new Map<string, ReturnType<typeof pLimit>>();
  return models.map((model) => {
    const limit = limits[model.provider];
    if (limit === undefined) return model;
    let limiter = limiters.get(model.provider);
    if (!limiter) {
      limiter = pLimit(limit);
      limiters.set(model.provider, limiter);
    }
    const run = limiter;
    return {
      provider: model.provider,
      modelId: model.modelId,
      maxImagesPerCall: model.maxImagesPerCall,
      generate: (options) =>
        run(() => {
          // A caller that left while queued should not start provider work.
          options.abortSignal?.throwIfAborted();
          return model.generate(options);
        }),
    };
  });
}
