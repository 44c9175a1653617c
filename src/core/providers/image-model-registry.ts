import type { ImageModel } from './image-model.ts';

/** The models this instance can actually call (their provider is configured), by model id. */
export class ImageModelRegistry {
  readonly #models: ReadonlyMap<string, ImageModel>;

  constructor(models: readonly ImageModel[]) {
    this.#models = new Map(models.map((model) => [model.modelId, model]));
  }

  /** The configured model with this id. */
  get(modelId: string): ImageModel | undefined {
    return this.#models.get(modelId);
  }

  /** Ids of every configured model. */
  ids(): string[] {
    return [...this.#models.keys()];
  }
}

/** Splits `count` images into call sizes no larger than `maxImagesPerCall` (5 by 2 → [2, 2, 1]). */
export function splitIntoCalls(count: number, maxImagesPerCall: number): number[] {
  const perCall = Math.max(1, Math.floor(maxImagesPerCall));
  const calls: number[] = [];
  for (let remaining = count; remaining > 0; remaining -= perCall) calls.push(Math.min(perCall, remaining));
  return calls;
}
