import { z } from 'zod';
import type { GenerationWarning, ImageModelCallOptions } from '../image-model.ts';
import { ProviderCallError } from '../provider-error.ts';

// Input schemas as Replicate's model pages list them (black-forest-labs/flux-schnell, flux-dev and
// flux-1.1-pro, checked 2025). We send only what we mean to: every schema is strict, so a key such as
// `disable_safety_checker` (schnell, dev) or a raised `safety_tolerance` (1.1 pro) can never slip in.

/** Aspect ratios FLUX.1 [schnell] and [dev] take. */
const flux1AspectRatios = [
  '1:1',
  '16:9',
  '21:9',
  '3:2',
  '2:3',
  '4:5',
  '5:4',
  '3:4',
  '4:3',
  '9:16',
  '9:21',
] as const;

/** FLUX1.1 [pro] has no 21:9 or 9:21; its `custom` needs a width and height, which we do not send. */
const flux11ProAspectRatios = ['1:1', '16:9', '3:2', '2:3', '4:5', '5:4', '9:16', '3:4', '4:3'] as const;

const prompt = z.string().min(1);
const seed = z.number().int().min(0).max(4_294_967_295).optional();

/** `go_fast` (fp8) is the model's own default; it makes a seed reproduce only approximately. */
const flux1InputSchema = z.strictObject({
  prompt,
  aspect_ratio: z.enum(flux1AspectRatios),
  num_outputs: z.number().int().min(1).max(4),
  seed,
  output_format: z.literal('png'),
  go_fast: z.literal(true),
  megapixels: z.literal('1'),
});

/** FLUX1.1 [pro] renders one image per prediction and takes no `num_outputs`, `go_fast` or `megapixels`. */
const flux11ProInputSchema = z.strictObject({
  prompt,
  aspect_ratio: z.enum(flux11ProAspectRatios),
  seed,
  output_format: z.literal('png'),
});

/** The `input` of one prediction, as validated before it is sent. */
export type ReplicateInput = z.infer<typeof flux1InputSchema> | z.infer<typeof flux11ProInputSchema>;

interface ReplicateModelInputs {
  aspectRatios: readonly string[];
  /** Whether the model takes `num_outputs`; without it a prediction renders exactly one image. */
  takesNumOutputs: boolean;
  schema: z.ZodType<ReplicateInput>;
}

const modelInputs: Readonly<Record<string, ReplicateModelInputs>> = {
  'black-forest-labs/flux-schnell': {
    aspectRatios: flux1AspectRatios,
    takesNumOutputs: true,
    schema: flux1InputSchema,
  },
  'black-forest-labs/flux-dev': {
    aspectRatios: flux1AspectRatios,
    takesNumOutputs: true,
    schema: flux1InputSchema,
  },
  'black-forest-labs/flux-1.1-pro': {
    aspectRatios: flux11ProAspectRatios,
    takesNumOutputs: false,
    schema: flux11ProInputSchema,
  },
};

/** Whether we know how to build the input of this Replicate model (`owner/name`). */
export function isKnownReplicateModel(providerModel: string): boolean {
  return Object.hasOwn(modelInputs, providerModel);
}

/**
 * The prediction input for one call, and what the model could not do as asked: an aspect ratio it lacks
 * (mapped to the nearest, with a warning) or a negative prompt (Flux takes none; quality has one level).
 * Throws ProviderCallError('rejected') if what we built does not pass the model's schema.
 */
export function buildReplicateInput(
  providerModel: string,
  options: ImageModelCallOptions,
): { input: ReplicateInput; warnings: GenerationWarning[] } {
  const model = modelInputs[providerModel];
  if (!model) throw new Error(`No Replicate input mapping for ${providerModel}`);
  const warnings: GenerationWarning[] = [];

  const aspectRatio = chooseAspectRatio(options, model.aspectRatios, warnings);
  if (options.negativePrompt !== undefined) {
    warnings.push({
      type: 'unsupported',
      feature: 'negative_prompt',
      detail: 'Flux takes no negative prompt; it was not sent.',
    });
  }
  // No warning for `quality`: Flux has one level, and `high` is every request's default, so a warning
  // would be noise on every image.
  if (!model.takesNumOutputs && options.n !== 1) {
    throw new RangeError(`${providerModel} renders one image per prediction, not ${options.n}`);
  }

  const candidate = {
    prompt: options.prompt,
    aspect_ratio: aspectRatio,
    ...(model.takesNumOutputs ? { num_outputs: options.n } : {}),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    output_format: 'png',
    ...(model.takesNumOutputs ? { go_fast: true, megapixels: '1' } : {}),
  };
  const parsed = model.schema.safeParse(candidate);
  if (!parsed.success) {
    throw new ProviderCallError(
      'rejected',
      `Replicate input for ${providerModel} is invalid: ${parsed.error.message}`,
      {
        provider: 'replicate',
      },
    );
  }
  return { input: parsed.data, warnings };
}

/**
 * The caller's aspect ratio when the model offers it; otherwise the offered one nearest in shape to it (or,
 * with no ratio asked, to the requested size), with a `mapped` warning.
 */
function chooseAspectRatio(
  options: ImageModelCallOptions,
  offered: readonly string[],
  warnings: GenerationWarning[],
): string {
  const asked = options.aspectRatio;
  if (asked !== undefined && offered.includes(asked)) return asked;
  const askedValue = asked === undefined ? Number.NaN : ratioValue(asked);
  const target = Number.isFinite(askedValue) ? askedValue : options.size.width / options.size.height;
  const nearest = nearestAspectRatio(target, offered);
  const from = asked ?? `${options.size.width}x${options.size.height}`;
  if (asked !== undefined || Math.abs(Math.log(target / ratioValue(nearest))) > 1e-9) {
    warnings.push({
      type: 'mapped',
      feature: 'aspect_ratio',
      detail: `${from} → ${nearest}: the nearest aspect ratio this model offers`,
    });
  }
  return nearest;
}

/** The offered ratio closest to `target` (width / height) on a log scale, so 2:1 and 1:2 are as far from 1:1. */
export function nearestAspectRatio(target: number, offered: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of offered) {
    const distance = Math.abs(Math.log(target / ratioValue(candidate)));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) throw new RangeError('nearestAspectRatio needs at least one offered ratio');
  return best;
}

/** `16:9` → 1.777…; NaN for anything that is not two positive numbers. */
function ratioValue(ratio: string): number {
  const [width, height] = ratio.split(':').map(Number);
  if (width === undefined || height === undefined || !(width > 0) || !(height > 0)) return Number.NaN;
  return width / height;
}
