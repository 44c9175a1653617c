import { automatic1111Provider } from './automatic1111/automatic1111-provider.ts';
import { comfyuiProvider } from './comfyui/comfyui-provider.ts';
import type { ModelDescriptor } from './model-catalog.ts';
import { openaiProvider } from './openai/openai-provider.ts';
import { openaiCompatibleProvider } from './openai-compatible/openai-compatible-provider.ts';
import { placeholderProvider } from './placeholder/placeholder-provider.ts';
import type { ProviderDescriptor } from './provider-descriptor.ts';
import { replicateProvider } from './replicate/replicate-provider.ts';

/**
 * Every provider this build knows: one line each (`import { fooProvider } from './foo/foo-provider.ts'` and
 * `fooProvider,` here is all it takes). Their built-in models are listed in this order.
 */
export const builtInProviders: readonly ProviderDescriptor[] = [
  placeholderProvider,
  replicateProvider,
  openaiProvider,
  automatic1111Provider,
  comfyuiProvider,
  openaiCompatibleProvider,
];

/** The providers an instance can build models with, by name. */
export class ProviderRegistry {
  readonly #providers: ReadonlyMap<string, ProviderDescriptor>;

  /** `extra` descriptors (a test's own provider, say) come after the built-in ones; names must be unique. */
  constructor(
    extra: readonly ProviderDescriptor[] = [],
    base: readonly ProviderDescriptor[] = builtInProviders,
  ) {
    const providers = new Map<string, ProviderDescriptor>();
    for (const provider of [...base, ...extra]) {
      if (providers.has(provider.name)) throw new Error(`two providers are named "${provider.name}"`);
      providers.set(provider.name, provider);
    }
    this.#providers = providers;
  }

  /** The provider with this name (a MODELS_FILE entry's `provider`). */
  get(name: string): ProviderDescriptor | undefined {
    return this.#providers.get(name);
  }

  /** The provider that builds this model; every catalog entry names a registered one. */
  of(model: ModelDescriptor): ProviderDescriptor {
    const provider = this.#providers.get(model.provider);
    if (!provider)
      throw new Error(`model ${model.id} names provider "${model.provider}", which is not registered`);
    return provider;
  }

  names(): string[] {
    return [...this.#providers.keys()];
  }

  /** Every provider's built-in models, in registration order. */
  builtInModels(): ModelDescriptor[] {
    return [...this.#providers.values()].flatMap((provider) => provider.builtInModels ?? []);
  }
}
