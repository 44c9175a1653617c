import type { ImageModel } from './image-model.ts';

/** The models this instance can actually call (their provider is configured), by model id. */
export class ImageModelRegistry {
  readonly #models: ReadonlyMap<string, ImageModel>;
  readonly #isConfigured: (model: ImageModel) => boolean;

  /**
   * `isConfigured` tells which models have their provider's credentials; the others stay registered so a
   * call fails as `credentials` and routing moves on, but health reports them as not callable.
   */
  constructor(models: readonly ImageModel[], isConfigured: (model: ImageModel) => boolean = () => true) {
    this.#models = new Map(models.map((model) => [model.modelId, model]));
    this.#isConfigured = isConfigured;
  }

  /** Whether this model's provider has what it needs to be called. */
  isConfigured(modelId: string): boolean {
    const model = this.#models.get(modelId);
    return model !== undefined && this.#isConfigured(model);
  }

  /** Ids of the models whose provider is configured. */
  configuredIds(): string[] {
    return [...this.#models.values()].filter(this.#isConfigured).map((model) => model.modelId);
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
