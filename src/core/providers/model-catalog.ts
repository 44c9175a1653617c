import type { PlanDefinition } from '../quota/plans.ts';
import { planAllowsModel } from '../quota/plans.ts';
import type { ImageDimensions, ModelCapability } from './image-model.ts';

export type { ModelCapability } from './image-model.ts';

/**
 * A model entry: a model the service knows by name, whether or not its provider is configured on this
 * instance. Built-in entries come from each provider's descriptor (`builtInModels`); a `MODELS_FILE` adds
 * entries of the same kind or overrides built-in ones by id. `Options` are the provider's own entry fields,
 * as its descriptor's `entryOptions` schema parsed them (A1111's `steps`, ComfyUI's `workflow`).
 */
export interface ModelDescriptor<Options = Readonly<Record<string, unknown>>> {
  id: string;
  /** The `name` of the provider descriptor that builds it (`replicate`, `openai`, `automatic1111`, …). */
  provider: string;
  /**
   * The vendor's name for the model (`vendor_model`): a Replicate `owner/name`, an OpenAI model id, a
   * checkpoint on a self-hosted server. Undefined when the server decides (a ComfyUI workflow names it).
   */
  providerModel: string | undefined;
  /** Premium models are enterprise-only unless a plan lists them. */
  premium: boolean;
  description: string;
  /** The most images one provider call may return (`num_outputs`, `n`, `batch_size`). */
  maxImagesPerCall: number;
  /** The only sizes the model renders (`sizes: [WxH, …]`); undefined when it takes any (`sizes: any`). */
  fixedSizes: readonly ImageDimensions[] | undefined;
  /** US dollars for one image of this size and quality (`price_usd`; 0 for your own GPU). */
  priceUsd(size: ImageDimensions, quality: 'standard' | 'high'): number;
  capabilities: readonly ModelCapability[];
  /** Where a self-hosted server listens (`base_url`). */
  baseUrl: string | undefined;
  /** The only plans that may use it (`plans`), on top of the plan's own rules; undefined means all. */
  plans: readonly string[] | undefined;
  /**
   * Calls in flight to this model (`concurrency`). Undefined: a cloud model shares its provider's limit
   * (REPLICATE_CONCURRENCY…), a self-hosted one takes one call at a time per `base_url` (it is one GPU).
   */
  concurrency: number | undefined;
  /** One call, every retry included (`timeout_ms`); undefined means PROVIDER_DEADLINE_MS. */
  timeoutMs: number | undefined;
  /** The name of the environment variable holding this model's key (`api_key_env`), never the key. */
  apiKeyEnv: string | undefined;
  /** The provider's own entry fields, parsed by its descriptor's `entryOptions`. */
  options: Options;
  /** Where the entry came from, for operators reading `npm run cli -- models`. */
  source: 'built-in' | 'models file';
  /**
   * The models file that defined it (an absolute path), so a provider resolves paths an entry names
   * (ComfyUI's `workflow`) against the file rather than the working directory. Undefined when built in.
   */
  definedIn: string | undefined;
}

/** The fields a built-in entry must spell out; the rest take their defaults. */
export type BuiltInModelFields = Pick<
  ModelDescriptor,
  'id' | 'provider' | 'providerModel' | 'description' | 'maxImagesPerCall' | 'priceUsd'
> &
  Partial<Omit<ModelDescriptor, 'source' | 'definedIn'>>;

/** A built-in model entry, with the defaults a models-file entry also gets. */
export function builtInModel(fields: BuiltInModelFields): ModelDescriptor {
  return {
    premium: false,
    fixedSizes: undefined,
    capabilities: ['text_to_image'],
    baseUrl: undefined,
    plans: undefined,
    concurrency: undefined,
    timeoutMs: undefined,
    apiKeyEnv: undefined,
    options: {},
    ...fields,
    source: 'built-in',
    definedIn: undefined,
  };
}

/** A flat price per image, whatever the size or quality. */
export const flatPrice = (price: number) => (): number => price;

/** Whether a plan may use a model: the plan's rules (`*`, standard, a list), then the entry's `plans`. */
export function modelAllowedForPlan(plan: PlanDefinition, model: ModelDescriptor): boolean {
  if (model.plans !== undefined && !model.plans.includes(plan.name)) return false;
  return planAllowsModel(plan, model);
}

/**
 * Every model by the name users and operators type, in the order operators listed them (built-in ones
 * first). Prices are what the ledger records and the monthly budget counts.
 */
export class ModelCatalog {
  readonly #models: readonly ModelDescriptor[];
  readonly #byId: ReadonlyMap<string, ModelDescriptor>;

  constructor(models: readonly ModelDescriptor[]) {
    this.#models = models;
    this.#byId = new Map(models.map((model) => [model.id, model]));
  }

  /** The model with this name (case and surrounding spaces ignored), if the service knows it. */
  find(id: string): ModelDescriptor | undefined {
    return this.#byId.get(id.trim().toLowerCase());
  }

  /** Every model, in catalog order. */
  all(): readonly ModelDescriptor[] {
    return this.#models;
  }
}
