import type { PlanDefinition } from '../quota/plans.ts';
import type { ImageModel } from './image-model.ts';
import { type ModelCatalog, type ModelDescriptor, modelAllowedForPlan } from './model-catalog.ts';

/** A catalog entry with the model built for it. */
export interface RegisteredModel {
  descriptor: ModelDescriptor;
  model: ImageModel;
  /** Whether its provider has what it needs to be called (credentials present). */
  configured: boolean;
  /** The provider's cheap readiness check, when it has one. */
  probe: ((signal: AbortSignal) => Promise<void>) | undefined;
}

/** The models this instance can call, by model id, beside the catalog that names them. */
export class ImageModelRegistry {
  readonly catalog: ModelCatalog;
  readonly #models: ReadonlyMap<string, RegisteredModel>;

  /**
   * Unconfigured models stay registered so a call fails as `credentials` and routing moves on, but they are
   * neither offered to callers nor reported ready.
   */
  constructor(catalog: ModelCatalog, models: readonly RegisteredModel[]) {
    this.catalog = catalog;
    this.#models = new Map(models.map((entry) => [entry.descriptor.id, entry]));
  }

  /** Whether this model's provider has what it needs to be called. */
  isConfigured(modelId: string): boolean {
    return this.#models.get(modelId)?.configured === true;
  }

  /** Ids of the models whose provider is configured, in catalog order. */
  configuredIds(): string[] {
    return this.registered()
      .filter((entry) => entry.configured)
      .map((entry) => entry.descriptor.id);
  }

  /** The model built for this id. */
  get(modelId: string): ImageModel | undefined {
    return this.#models.get(modelId)?.model;
  }

  /** Every registered model with its entry, in catalog order. */
  registered(): RegisteredModel[] {
    return [...this.#models.values()];
  }

  /**
   * The models a plan may use on this instance: configured, and allowed by the plan and the entry's `plans`.
   * `GET /api/v1/models` and Discord's model autocomplete both read this list.
   */
  availableTo(plan: PlanDefinition): ModelDescriptor[] {
    return this.registered()
      .filter((entry) => entry.configured && modelAllowedForPlan(plan, entry.descriptor))
      .map((entry) => entry.descriptor);
  }
}

/** Splits `count` images into call sizes no larger than `maxImagesPerCall` (5 by 2 → [2, 2, 1]). */
export function splitIntoCalls(count: number, maxImagesPerCall: number): number[] {
  const perCall = Math.max(1, Math.floor(maxImagesPerCall));
  const calls: number[] = [];
  for (let remaining = count; remaining > 0; remaining -= perCall) calls.push(Math.min(perCall, remaining));
  return calls;
}
