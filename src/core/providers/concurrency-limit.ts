import pLimit from 'p-limit';
import type { ImageModel } from './image-model.ts';

/** Calls that share one limit: a cloud provider's models, one self-hosted server, or one model alone. */
export interface ConcurrencyGroup {
  key: string;
  limit: number;
}

/**
 * Wraps models so that at most `limit` calls of one group run at once, across all the group's models: a
 * burst of requests queues here instead of tripping a provider's rate limit or stacking jobs on one GPU.
 * Models without a group are returned as they are.
 */
export function limitConcurrency(
  models: readonly ImageModel[],
  groupOf: (model: ImageModel) => ConcurrencyGroup | undefined,
): ImageModel[] {
  const limiters = new Map<string, ReturnType<typeof pLimit>>();
  return models.map((model) => {
    const group = groupOf(model);
    if (group === undefined) return model;
    let limiter = limiters.get(group.key);
    if (!limiter) {
      limiter = pLimit(group.limit);
      limiters.set(group.key, limiter);
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
