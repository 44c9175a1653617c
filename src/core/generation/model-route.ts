import type { Logger } from 'pino';
import { ImagineError, validationError } from '../errors/imagine-error.ts';
import type {
  ImageModel,
  ImageModelCallOptions,
  ImageModelResult,
  ModelCapability,
} from '../providers/image-model.ts';
import type { ImageModelRegistry } from '../providers/image-model-registry.ts';
import { type ModelDescriptor, modelAllowedForPlan } from '../providers/model-catalog.ts';
import { canFallBack, ProviderCallError, toImagineError } from '../providers/provider-error.ts';
import type { PlanDefinition } from '../quota/plans.ts';

/** One model a request may be served by. */
export interface RouteStep {
  descriptor: ModelDescriptor;
  model: ImageModel;
}

/**
 * The models that may serve a request, in order: the one asked for (or the operator's default), then the
 * operator's fallbacks that the caller's plan allows. Never empty.
 */
export type ModelRoute = readonly [RouteStep, ...RouteStep[]];

/**
 * Resolves the route for a request. An unknown model is a 422; a model the plan does not include is a 403
 * (for the model asked for; fallbacks the plan excludes are skipped quietly); a model asked for that cannot
 * do the task is a 422 `unsupported_by_model` naming the models that can; no configured model at all is a
 * 503. Only models whose entry declares the task's capability are routed to: a request with an image is
 * never quietly served as text. With no model named, the task's default (IMAGE_TO_IMAGE_MODEL,
 * UPSCALE_MODEL) leads, then the default model, then the fallbacks.
 */
export function resolveModelRoute(settings: {
  requested: string | undefined;
  defaultModel: string;
  fallbackModels: readonly string[];
  /** What the request needs; defaults to text_to_image. */
  task?: ModelCapability | undefined;
  /** The operator's model for this task when none is named (IMAGE_TO_IMAGE_MODEL, UPSCALE_MODEL). */
  taskDefaultModel?: string | undefined;
  plan: PlanDefinition;
  registry: ImageModelRegistry;
  logger: Logger;
}): ModelRoute {
  const { plan, registry } = settings;
  const task = settings.task ?? 'text_to_image';
  const findModel = (name: string) => registry.catalog.find(name);
  const canDo = (descriptor: ModelDescriptor) => descriptor.capabilities.includes(task);
  const primaryName = (
    settings.requested ??
    settings.taskDefaultModel ??
    settings.defaultModel
  ).toLowerCase();
  const primary = findModel(primaryName);
  if (!primary) throw validationError([{ field: 'model', message: `unknown model "${primaryName}"` }]);
  if (!modelAllowedForPlan(plan, primary)) {
    throw new ImagineError(
      'model_not_allowed',
      `The ${plan.name} plan does not include the ${primary.id} model`,
      {
        model: primary.id,
        plan: plan.name,
      },
    );
  }
  const unsupported = () => {
    const capable = registry
      .availableTo(plan)
      .filter(canDo)
      .map((descriptor) => descriptor.id);
    return new ImagineError(
      'unsupported_by_model',
      capable.length > 0
        ? `The ${primary.id} model cannot do ${task}; models that can: ${capable.join(', ')}`
        : `The ${primary.id} model cannot do ${task}, and no model on this server can`,
      { model: primary.id, feature: task, models: capable },
    );
  };
  if (settings.requested !== undefined && !canDo(primary)) throw unsupported();
  const candidates = [
    primary,
    ...(settings.requested === undefined ? [findModel(settings.defaultModel)] : []),
    ...settings.fallbackModels.map((name) => findModel(name)),
  ];
  const steps: RouteStep[] = [];
  for (const descriptor of candidates) {
    if (!descriptor || steps.some((step) => step.descriptor.id === descriptor.id)) continue;
    if (!canDo(descriptor) || !modelAllowedForPlan(plan, descriptor)) continue;
    const model = registry.get(descriptor.id);
    if (model) steps.push({ descriptor, model });
  }
  const [first, ...rest] = steps;
  if (!first) {
    if (!canDo(primary)) throw unsupported();
    settings.logger.warn({ model: primary.id }, 'model requested but no provider for it is configured');
    throw new ImagineError(
      'provider_unavailable',
      `The ${primary.id} model is not available on this server`,
      {
        model: primary.id,
      },
    );
  }
  return [first, ...rest];
}

/** The most one image can cost along the route: what a quota hold must cover if every fallback is used. */
export function highestPriceUsd(
  route: ModelRoute,
  call: Pick<ImageModelCallOptions, 'size' | 'quality'>,
): number {
  return Math.max(...route.map((step) => step.descriptor.priceUsd(call.size, call.quality)));
}

/**
 * Calls the route's models in order until one delivers. A provider that is down, rate-limited past its
 * retries, timing out or missing credentials hands over to the next model; a refusal (safety, a bad
 * request) or a caller who left ends the call. The result names the model that served it.
 */
export async function generateAlongRoute(
  route: ModelRoute,
  options: ImageModelCallOptions,
  logger: Logger,
): Promise<{ result: ImageModelResult; descriptor: ModelDescriptor }> {
  let lastFailure: ProviderCallError | undefined;
  for (const [position, step] of route.entries()) {
    try {
      return { result: await step.model.generate(options), descriptor: step.descriptor };
    } catch (error) {
      if (options.abortSignal?.aborted || !(error instanceof ProviderCallError)) throw error;
      // The operator's view: which provider failed and how. The prompt and the provider's body stay out.
      const details = { model: step.descriptor.id, kind: error.kind, status: error.status, err: error };
      if (error.kind === 'credentials') {
        logger.error(details, `invalid_credentials: ${error.message}`);
      } else {
        logger.warn(details, 'image provider call failed');
      }
      if (!canFallBack(error.kind)) throw toImagineError(error);
      lastFailure = error;
      const next = route[position + 1];
      if (next)
        logger.warn({ from: step.descriptor.id, to: next.descriptor.id }, 'falling back to the next model');
    }
  }
  throw lastFailure ? toImagineError(lastFailure) : new ImagineError('provider_unavailable');
}
