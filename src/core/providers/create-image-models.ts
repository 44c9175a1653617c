import type { Logger } from 'pino';
import type { ProviderSettings } from '../../config/load-config.ts';
import { defaultRetryPolicy, type RetryPolicy } from './call-with-retries.ts';
import { type ConcurrencyGroup, limitConcurrency } from './concurrency-limit.ts';
import type { RegisteredModel } from './image-model-registry.ts';
import type { ModelCatalog, ModelDescriptor } from './model-catalog.ts';
import type { ProviderContext, ProviderDescriptor } from './provider-descriptor.ts';
import type { ProviderRegistry } from './provider-registry.ts';

/**
 * Every model in the catalog, built by its provider's descriptor and ready to call. Models are built even
 * without credentials: a call then fails as `credentials`, which routing treats as "try the next model",
 * and the log names the variable to set; `configured` says which ones health and the model list offer.
 */
export function createImageModels(settings: {
  catalog: ModelCatalog;
  registry: ProviderRegistry;
  providers: ProviderSettings;
  logger: Logger;
}): RegisteredModel[] {
  const { catalog, registry, providers, logger } = settings;
  const built = catalog.all().map((descriptor) => {
    const provider = registry.of(descriptor);
    const context = contextFor(descriptor, providers, logger);
    return {
      descriptor,
      model: provider.createModel(descriptor, context),
      configured: provider.isConfigured(descriptor, context),
      probe: probeFor(provider, descriptor, context),
      group: concurrencyGroup(descriptor, provider, context),
    };
  });
  const groups = new Map(built.map((entry) => [entry.model, entry.group]));
  const limited = limitConcurrency(
    built.map((entry) => entry.model),
    (model) => groups.get(model),
  );
  // limitConcurrency returns one model for each it was given, in order.
  return limited.map((model, index) => {
    const { descriptor, configured, probe } = built[index] as (typeof built)[number];
    return { descriptor, model, configured, probe };
  });
}

function contextFor(
  descriptor: ModelDescriptor,
  providers: ProviderSettings,
  logger: Logger,
): ProviderContext {
  const deadlineMs = descriptor.timeoutMs ?? providers.deadlineMs;
  const retryPolicy: RetryPolicy = {
    ...defaultRetryPolicy,
    deadlineMs,
    attemptTimeoutMs: Math.min(defaultRetryPolicy.attemptTimeoutMs, deadlineMs),
  };
  return { settings: providers, variable: providers.variable, retryPolicy, logger };
}

/**
 * An entry's own `concurrency` is its own limit. Otherwise a self-hosted model takes one call at a time per
 * server (two checkpoints on one box share its GPU), and a cloud model shares its provider's limit.
 */
function concurrencyGroup(
  descriptor: ModelDescriptor,
  provider: ProviderDescriptor,
  context: ProviderContext,
): ConcurrencyGroup | undefined {
  if (descriptor.concurrency !== undefined)
    return { key: `model:${descriptor.id}`, limit: descriptor.concurrency };
  if (provider.hosting === 'self-hosted')
    return { key: `server:${descriptor.baseUrl ?? descriptor.id}`, limit: 1 };
  const limit = provider.defaultConcurrency?.(context);
  return limit === undefined ? undefined : { key: `provider:${provider.name}`, limit };
}

function probeFor(
  provider: ProviderDescriptor,
  descriptor: ModelDescriptor,
  context: ProviderContext,
): ((signal: AbortSignal) => Promise<void>) | undefined {
  const probe = provider.probe;
  return probe ? (signal) => probe.call(provider, descriptor, context, signal) : undefined;
}
