import pLimit from 'p-limit';
import type { ImageModel } from './image-model.ts';

/** Calls that share one limit: a cloud provider's models, one self-hosted server, or one model alone. */
export interface ConcurrencyGroup {
  key: string;
  limit: number;
}

/** One group's limiter and the calls waiting in it, in order, each with how to tell it its place. */
interface GroupLine {
  run: ReturnType<typeof pLimit>;
  waiting: Array<(position: number) => void>;
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
  const lines = new Map<string, GroupLine>();
  return models.map((model) => {
    const group = groupOf(model);
    if (group === undefined) return model;
    let line = lines.get(group.key);
    if (!line) {
      line = { run: pLimit(group.limit), waiting: [] };
      lines.set(group.key, line);
    }
    const { run, waiting } = line;
    return {
      provider: model.provider,
      modelId: model.modelId,
      maxImagesPerCall: model.maxImagesPerCall,
      generate: (options) => {
        const tell = options.onQueued ?? (() => undefined);
        const waits = run.activeCount >= run.concurrency;
        if (waits) {
          waiting.push(tell);
          tell(waiting.length);
        }
        return run(() => {
          if (waits) {
            // pLimit starts calls in the order they came: this one was first in line.
            waiting.splice(waiting.indexOf(tell), 1);
            tell(0);
            for (const [index, others] of waiting.entries()) others(index + 1);
          }
          // A caller that left while queued should not start provider work.
          options.abortSignal?.throwIfAborted();
          return model.generate(options);
        });
      },
    };
  });
}
