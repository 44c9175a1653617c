import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ImageDimensions } from '../core/providers/image-model.ts';
import { flatPrice, type ModelCapability, type ModelDescriptor } from '../core/providers/model-catalog.ts';
import type { ProviderDescriptor } from '../core/providers/provider-descriptor.ts';
import type { ProviderRegistry } from '../core/providers/provider-registry.ts';

const capabilities = [
  'text_to_image',
  'image_to_image',
  'edit',
  'upscale',
] as const satisfies readonly ModelCapability[];

const sizeMessage = 'must be "any" or a list of sizes like "1024x1024"';

/** The fields every entry may have, whatever its provider; the provider's own fields are the rest. */
const commonEntrySchema = z.object({
  id: z
    .string({ error: 'is required: the name users type (lower-case letters, digits, ".", "_" or "-")' })
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be lower-case letters, digits, ".", "_" or "-", at most 64'),
  provider: z.string().min(1).optional(),
  description: z.string().min(1).max(200).optional(),
  base_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  vendor_model: z.string().min(1).optional(),
  sizes: z
    .union([z.literal('any'), z.array(z.string().regex(/^[1-9]\d{1,4}x[1-9]\d{1,4}$/, sizeMessage)).min(1)], {
      error: sizeMessage,
    })
    .optional(),
  max_images_per_call: z.number().int().min(1).max(16).optional(),
  price_usd: z.number().nonnegative().optional(),
  plans: z.array(z.string().min(1)).min(1).optional(),
  concurrency: z.number().int().min(1).max(256).optional(),
  timeout_ms: z.number().int().min(100).optional(),
  api_key_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be the NAME of an environment variable (never the key itself)')
    .optional(),
  capabilities: z.array(z.enum(capabilities)).min(1).optional(),
});

type CommonEntry = z.infer<typeof commonEntrySchema>;
const commonKeys = new Set(Object.keys(commonEntrySchema.shape));

/** What reading a models file gave: the catalog (built-in models with the file's on top) or what is wrong. */
export interface ModelsFileResult {
  models: ModelDescriptor[];
  problems: string[];
}

/**
 * Reads `MODELS_FILE` (JSON, or YAML by its `.yaml`/`.yml` extension): a top-level `models` list whose
 * entries add models or override built-in ones by `id`. Each problem names the file, the entry (index and
 * id) and the field, so start-up can stop with a message an operator can act on.
 */
export function readModelsFile(
  file: string,
  settings: { registry: ProviderRegistry; builtIn: readonly ModelDescriptor[]; planNames: readonly string[] },
): ModelsFileResult {
  const shown = `MODELS_FILE ${file}`;
  let document: unknown;
  try {
    const text = fs.readFileSync(path.resolve(file), 'utf8');
    const extension = path.extname(file).toLowerCase();
    if (extension === '.json') document = JSON.parse(text);
    else if (extension === '.yaml' || extension === '.yml') document = parseYaml(text);
    else return failed(`${shown}: must end in .json, .yaml or .yml (that is how its format is chosen)`);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return failed(`${shown}: cannot be read: ${reason}`);
  }
  const entries = (document as { models?: unknown } | null)?.models;
  if (!Array.isArray(entries)) return failed(`${shown}: must have a top-level "models" list`);

  const models = [...settings.builtIn];
  const problems: string[] = [];
  const seen = new Set<string>();
  entries.forEach((raw: unknown, index) => {
    const where = (id: unknown) =>
      `${shown}: models[${index}]${typeof id === 'string' ? ` (id "${id}")` : ''}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${where(undefined)}: must be a mapping with at least "id" and "provider"`);
      return;
    }
    const fields = raw as Record<string, unknown>;
    const entryProblems: string[] = [];
    const model = parseEntry(fields, models, { ...settings, definedIn: path.resolve(file) }, entryProblems);
    problems.push(...entryProblems.map((problem) => `${where(fields.id)}: ${problem}`));
    if (!model) return;
    if (seen.has(model.id)) {
      problems.push(`${where(model.id)}: id: "${model.id}" is listed twice in the file`);
      return;
    }
    seen.add(model.id);
    const existing = models.findIndex((candidate) => candidate.id === model.id);
    if (existing === -1) models.push(model);
    else models[existing] = model;
  });
  return { models, problems };
}

function failed(problem: string): ModelsFileResult {
  return { models: [], problems: [problem] };
}

/** One entry, merged over the built-in model of the same id and provider; undefined when it is unusable. */
function parseEntry(
  fields: Record<string, unknown>,
  catalog: readonly ModelDescriptor[],
  settings: { registry: ProviderRegistry; planNames: readonly string[]; definedIn: string },
  problems: string[],
): ModelDescriptor | undefined {
  const commonFields = Object.fromEntries(Object.entries(fields).filter(([key]) => commonKeys.has(key)));
  const ownFields = Object.fromEntries(Object.entries(fields).filter(([key]) => !commonKeys.has(key)));
  const parsed = commonEntrySchema.safeParse(commonFields);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      problems.push(`${issue.path.join('.') || 'entry'}: ${issue.message}`);
    return undefined;
  }
  const common = parsed.data;
  const builtIn = catalog.find((model) => model.id === common.id);
  const providerName = common.provider ?? builtIn?.provider;
  if (!providerName) {
    problems.push(`provider: is required (one of: ${settings.registry.names().join(', ')})`);
    return undefined;
  }
  const provider = settings.registry.get(providerName);
  if (!provider) {
    problems.push(`provider: "${providerName}" is not one of: ${settings.registry.names().join(', ')}`);
    return undefined;
  }
  // An entry for another provider under a built-in id replaces it outright; the same provider refines it.
  const base = builtIn?.provider === providerName ? builtIn : undefined;

  let options = base?.options ?? {};
  if (provider.entryOptions) {
    if (!base || Object.keys(ownFields).length > 0) {
      const own = provider.entryOptions.safeParse(ownFields);
      if (!own.success) {
        for (const issue of own.error.issues) {
          const field = issue.path.join('.') || unknownKeyOf(issue) || 'entry';
          problems.push(`${field}: ${issue.message}`);
        }
        return undefined;
      }
      options = own.data as Readonly<Record<string, unknown>>;
    }
  } else {
    for (const key of Object.keys(ownFields)) problems.push(`${key}: not a field of ${providerName} entries`);
  }

  if (!base && provider.hosting === 'self-hosted' && common.base_url === undefined) {
    problems.push('base_url: is required: where the server listens, e.g. http://127.0.0.1:7860');
  }
  if (!base && provider.hosting === 'cloud' && common.price_usd === undefined) {
    problems.push('price_usd: is required for a cloud model: what one image costs (0 if free)');
  }
  for (const plan of common.plans ?? []) {
    if (!settings.planNames.includes(plan)) {
      problems.push(`plans: "${plan}" is not a plan (plans: ${settings.planNames.join(', ')})`);
    }
  }
  for (const capability of common.capabilities ?? []) {
    if (!provider.capabilities.includes(capability)) {
      problems.push(`capabilities: ${providerName} cannot do ${capability}`);
    }
  }
  if (problems.length > 0) return undefined;

  const model = {
    ...mergeEntry(common, base, provider, options),
    definedIn: settings.definedIn,
  };
  for (const problem of provider.checkEntry?.(model) ?? [])
    problems.push(`${problem.field}: ${problem.message}`);
  if (problems.length > 0 || !provider.capabilitiesOf) return problems.length > 0 ? undefined : model;

  // What this entry can do (its workflow, its vendor model) bounds what it may claim, and is its default.
  const possible = provider.capabilitiesOf(model);
  for (const capability of common.capabilities ?? []) {
    if (!possible.includes(capability)) {
      problems.push(
        `capabilities: this ${providerName} entry cannot do ${capability} (it can: ${possible.join(', ')})`,
      );
    }
  }
  if (problems.length > 0) return undefined;
  return common.capabilities ? model : { ...model, capabilities: [...possible] };
}

function mergeEntry(
  common: CommonEntry,
  base: ModelDescriptor | undefined,
  provider: ProviderDescriptor,
  options: Readonly<Record<string, unknown>>,
): ModelDescriptor {
  const vendorModel = common.vendor_model ?? base?.providerModel;
  return {
    id: common.id,
    provider: provider.name,
    providerModel: vendorModel,
    premium: base?.premium ?? provider.premium ?? false,
    description: common.description ?? base?.description ?? `${provider.name} ${vendorModel ?? common.id}`,
    maxImagesPerCall: common.max_images_per_call ?? base?.maxImagesPerCall ?? 1,
    fixedSizes:
      common.sizes === undefined
        ? base?.fixedSizes
        : common.sizes === 'any'
          ? undefined
          : common.sizes.map(parseDimensions),
    priceUsd: common.price_usd === undefined ? (base?.priceUsd ?? flatPrice(0)) : flatPrice(common.price_usd),
    capabilities: common.capabilities ?? base?.capabilities ?? provider.capabilities,
    baseUrl: common.base_url?.replace(/\/+$/, '') ?? base?.baseUrl,
    plans: common.plans ?? base?.plans,
    concurrency: common.concurrency ?? base?.concurrency,
    timeoutMs: common.timeout_ms ?? base?.timeoutMs,
    apiKeyEnv: common.api_key_env ?? base?.apiKeyEnv,
    options,
    source: 'models file',
    definedIn: undefined,
  };
}

function parseDimensions(size: string): ImageDimensions {
  const [width = 0, height = 0] = size.split('x').map(Number);
  return { width, height };
}

/** A strict schema's "unrecognized keys" issue has no path; its keys name the field. */
function unknownKeyOf(issue: z.core.$ZodIssue): string | undefined {
  return issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : undefined;
}
