import type { Logger } from 'pino';
import type { z } from 'zod';
import type { ProviderSettings } from '../../config/load-config.ts';
import type { RetryPolicy } from './call-with-retries.ts';
import type { ImageModel } from './image-model.ts';
import type { ModelCapability, ModelDescriptor } from './model-catalog.ts';

/** What a provider is given to build and probe one model. */
export interface ProviderContext {
  /** The service's provider settings (REPLICATE_API_TOKEN, OPENAI_*, PROVIDER_*, DOWNLOAD_MAX_BYTES, …). */
  settings: ProviderSettings;
  /**
   * Reads an environment variable an entry names (`api_key_env`, A1111's `username_env`): the value is a
   * secret, so it goes into the request and nowhere else (no logs, errors or responses).
   */
  variable(name: string): string | undefined;
  /** Retries and deadline for this model's calls: PROVIDER_DEADLINE_MS, or the entry's `timeout_ms`. */
  retryPolicy: RetryPolicy;
  logger: Logger;
}

/**
 * One image provider: everything the service knows about it, in its own folder. A provider folder
 * `src/core/providers/<name>/` exports exactly one of these from `<name>-provider.ts` (for instance
 * `automatic1111Provider: ProviderDescriptor<Automatic1111EntryOptions>`), beside its factory
 * (`create<Name>ImageModel(settings)` in `<name>-image-model.ts`), its entry options schema
 * (`<name>-options.ts`) and its readiness probe; registering it is one line in `provider-registry.ts`.
 * Nothing outside the folder names the provider: config validates its entries with `entryOptions`,
 * services build its models with `createModel`, `/health` and `npm run cli -- models` call `probe`.
 *
 * A self-hosted provider, for instance:
 * ```ts
 * export const automatic1111Provider = defineProvider({
 *   name: 'automatic1111',
 *   hosting: 'self-hosted',
 *   capabilities: ['text_to_image'],
 *   entryOptions: automatic1111EntryOptions, // z.strictObject({ steps, cfg_scale, sampler, username_env, … })
 *   isConfigured: (model, context) => !model.options.username_env || !!context.variable(model.options.username_env),
 *   createModel: (model, context) =>
 *     createAutomatic1111ImageModel({ descriptor: model, retryPolicy: context.retryPolicy, logger: context.logger,
 *       username: model.options.username_env ? context.variable(model.options.username_env) : undefined }),
 *   probe: (model, context, signal) => probeAutomatic1111({ baseUrl: model.baseUrl, signal }),
 * });
 * ```
 * `model.baseUrl` is set for every self-hosted entry (config refuses one without `base_url`), without a
 * trailing slash; `model.providerModel` is the entry's `vendor_model` (A1111's checkpoint), if any.
 */
export interface ProviderDescriptor<Options = Readonly<Record<string, unknown>>> {
  /** The `provider` value of a MODELS_FILE entry (kebab-case, unique): `replicate`, `automatic1111`. */
  readonly name: string;
  /**
   * `self-hosted` (an operator's own GPU): entries default to one call at a time per `base_url`, and must
   * name a `base_url`. `cloud`: entries share the provider's configured concurrency (`concurrency`).
   */
  readonly hosting: 'cloud' | 'self-hosted';
  /**
   * Its models are premium (enterprise-only unless a plan lists them), built-in or added by a models file:
   * OpenAI's, as the mobile app's contract has it. Default false.
   */
  readonly premium?: boolean;
  /**
   * Everything its models can do between them; an entry may list no capability outside it. An entry that
   * lists none gets `capabilitiesOf(entry)`, or these when the provider has no such hook.
   */
  readonly capabilities: readonly ModelCapability[];
  /**
   * What one entry can do, when that depends on the entry (a Replicate `vendor_model`'s input mapping, a
   * ComfyUI workflow with or without `{{image}}`). Called once `checkEntry` found nothing wrong; an entry
   * that lists a capability outside it is refused.
   */
  capabilitiesOf?(model: ModelDescriptor<Options>): readonly ModelCapability[];
  /**
   * The provider's own MODELS_FILE entry fields, snake_case as operators write them, parsed into the
   * entry's `options` (A1111: `steps`, `cfg_scale`, `sampler`, `username_env`, `password_env`; ComfyUI:
   * `workflow`). Make it a `z.strictObject`, so a misspelt key is refused with its name; omit it when the
   * provider has no fields of its own. The common fields (`id`, `base_url`, `vendor_model`, `sizes`, …) are
   * parsed before it sees the entry and never reach it.
   */
  readonly entryOptions?: z.ZodType<Options>;
  /** Models it offers with no models file (Replicate's Flux, OpenAI's DALL·E); none for self-hosted. */
  readonly builtInModels?: readonly ModelDescriptor<Options>[];
  /**
   * Checks that need more than the schema (a Replicate `vendor_model` we have no input mapping for):
   * each problem names the entry's field (`vendor_model`) and what is wrong. Start-up stops on any.
   */
  checkEntry?(model: ModelDescriptor<Options>): readonly { field: string; message: string }[];
  /**
   * Whether a model can be called on this instance: its credentials are present (REPLICATE_API_TOKEN, the
   * variable `api_key_env` names). Unconfigured models stay in the catalog but are not offered to callers or
   * counted ready; a call that reaches one fails as `credentials` and routing moves on.
   */
  isConfigured(model: ModelDescriptor<Options>, context: ProviderContext): boolean;
  /** A cloud provider's concurrency shared by its models with no `concurrency` of their own. */
  defaultConcurrency?(context: ProviderContext): number;
  /**
   * Builds the model behind the core's one interface. It must not call the network here: a missing key
   * makes calls fail as `credentials` (naming the variable to set), so routing moves on.
   */
  createModel(model: ModelDescriptor<Options>, context: ProviderContext): ImageModel;
  /**
   * A cheap readiness check for `/health` and `npm run cli -- models` (A1111 `GET /sdapi/v1/options`,
   * ComfyUI `GET /system_stats`): resolves when the backend answers, throws (a ProviderCallError, ideally)
   * when it does not. Called with a short timeout on `signal` and cached for a few seconds. Omit it for
   * cloud providers, whose status pages are not ours to poll.
   */
  probe?(model: ModelDescriptor<Options>, context: ProviderContext, signal: AbortSignal): Promise<void>;
}

/**
 * Types a provider's descriptor with its own options while keeping it assignable to the registry's list.
 * The registry only hands a descriptor the entries its own `entryOptions` parsed.
 */
export function defineProvider<Options>(descriptor: ProviderDescriptor<Options>): ProviderDescriptor {
  return descriptor as unknown as ProviderDescriptor;
}
