import { z } from 'zod';
import type { GenerationWarning, ImageModelCallOptions, ModelCapability } from '../image-model.ts';
import { ProviderCallError } from '../provider-error.ts';

// Input schemas as Replicate's model pages list them (black-forest-labs/flux-schnell, flux-dev,
// flux-1.1-pro and flux-kontext-pro, nightmareai/real-esrgan, checked 2025). We send only what we mean to: every schema is strict, so a key such as
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

/** FLUX.1 [dev] redraws an init image (`image`, a URL or data URI); `prompt_strength` 1 ignores it. */
const flux1ImageInputSchema = z.strictObject({
  ...flux1InputSchema.shape,
  image: z.string().min(1),
  prompt_strength: z.number().min(0).max(1),
});

/** FLUX1.1 [pro] renders one image per prediction and takes no `num_outputs`, `go_fast` or `megapixels`. */
const flux11ProInputSchema = z.strictObject({
  prompt,
  aspect_ratio: z.enum(flux11ProAspectRatios),
  seed,
  output_format: z.literal('png'),
});

/**
 * FLUX.1 Kontext [pro] applies the prompt as an instruction to one `input_image`, keeping its shape
 * (`match_input_image`). Its `safety_tolerance` is left at the model's default (2, the most it allows with
 * an input image).
 */
const fluxKontextInputSchema = z.strictObject({
  prompt,
  input_image: z.string().min(1),
  aspect_ratio: z.literal('match_input_image'),
  seed,
  output_format: z.literal('png'),
});

/** Real-ESRGAN enlarges `image` by `scale`; `face_enhance` (GFPGAN) would repaint faces, so it stays off. */
const realEsrganInputSchema = z.strictObject({
  image: z.string().min(1),
  scale: z.number().int().min(1).max(10),
  face_enhance: z.literal(false),
});

/** The `input` of one prediction, as validated before it is sent. */
export type ReplicateInput =
  | z.infer<typeof flux1InputSchema>
  | z.infer<typeof flux1ImageInputSchema>
  | z.infer<typeof flux11ProInputSchema>
  | z.infer<typeof fluxKontextInputSchema>
  | z.infer<typeof realEsrganInputSchema>;

/** How the input of a call is put together: Flux from a prompt, Kontext from an instruction, ESRGAN. */
type InputKind = 'flux' | 'kontext' | 'esrgan';

/** How we build one Replicate model's input. */
export interface ReplicateModelInputs {
  kind: InputKind;
  /** What the model can be called for; any other task is refused before anything is sent. */
  capabilities: readonly ModelCapability[];
  aspectRatios: readonly string[];
  /** Whether the model takes `num_outputs`; without it a prediction renders exactly one image. */
  takesNumOutputs: boolean;
  schema: z.ZodType<ReplicateInput>;
  /** The schema of an image_to_image call, for models that take an init image. */
  imageSchema?: z.ZodType<ReplicateInput>;
}

/**
 * Real-ESRGAN is a community model, run by version (`POST /v1/predictions` with `version`), so the version
 * is pinned here: the latest on its Replicate page when this mapping was written (checked 2025).
 */
export const realEsrganModel =
  'nightmareai/real-esrgan:f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa';

const modelInputs: Readonly<Record<string, ReplicateModelInputs>> = {
  'black-forest-labs/flux-schnell': {
    kind: 'flux',
    capabilities: ['text_to_image'],
    aspectRatios: flux1AspectRatios,
    takesNumOutputs: true,
    schema: flux1InputSchema,
  },
  'black-forest-labs/flux-dev': {
    kind: 'flux',
    capabilities: ['text_to_image', 'image_to_image'],
    aspectRatios: flux1AspectRatios,
    takesNumOutputs: true,
    schema: flux1InputSchema,
    imageSchema: flux1ImageInputSchema,
  },
  'black-forest-labs/flux-1.1-pro': {
    kind: 'flux',
    capabilities: ['text_to_image'],
    aspectRatios: flux11ProAspectRatios,
    takesNumOutputs: false,
    schema: flux11ProInputSchema,
  },
  'black-forest-labs/flux-kontext-pro': {
    kind: 'kontext',
    capabilities: ['edit'],
    aspectRatios: [],
    takesNumOutputs: false,
    schema: fluxKontextInputSchema,
  },
  [realEsrganModel]: {
    kind: 'esrgan',
    capabilities: ['upscale'],
    aspectRatios: [],
    takesNumOutputs: false,
    schema: realEsrganInputSchema,
  },
};

/** Whether we know how to build the input of this Replicate model (`owner/name`). */
export function isKnownReplicateModel(providerModel: string): boolean {
  return Object.hasOwn(modelInputs, providerModel);
}

/** What a known Replicate model can do (empty for one we have no mapping for). */
export function replicateModelCapabilities(providerModel: string): readonly ModelCapability[] {
  return modelInputs[providerModel]?.capabilities ?? [];
}

/** The version of a model run by version (`owner/name:version`), or undefined for an official model. */
export function replicateModelVersion(providerModel: string): string | undefined {
  const colon = providerModel.indexOf(':');
  return colon === -1 ? undefined : providerModel.slice(colon + 1);
}

/**
 * The prediction input for one call, and what the model could not do as asked: an aspect ratio it lacks
 * (mapped to the nearest, with a warning), a negative prompt (Flux takes none; quality has one level), or
 * reference images beyond the one Kontext takes. `imageUrls` are the call's input images as Replicate
 * takes them (data URIs or uploaded files' URLs), in order. Throws ProviderCallError('rejected') for a task
 * the model cannot do, a call without the image its task needs, or an input that fails the model's schema.
 */
export function buildReplicateInput(
  providerModel: string,
  options: ImageModelCallOptions,
  imageUrls: readonly string[] = [],
): { input: ReplicateInput; warnings: GenerationWarning[] } {
  const model = checkReplicateTask(providerModel, options);
  const [image, ...more] = imageUrls;
  const warnings: GenerationWarning[] = [];
  // No warning for `quality`: Flux has one level, and `high` is every request's default, so a warning
  // would be noise on every image.
  if (!model.takesNumOutputs && options.n !== 1) {
    throw new RangeError(`${providerModel} renders one image per prediction, not ${options.n}`);
  }

  let candidate: Record<string, unknown>;
  let schema = model.schema;
  const seed = options.seed === undefined ? {} : { seed: options.seed };
  if (model.kind === 'esrgan') {
    candidate = { image, scale: options.upscaleFactor, face_enhance: false };
  } else if (model.kind === 'kontext') {
    if (more.length > 0) {
      warnings.push({
        type: 'unsupported',
        feature: 'input_images',
        detail: `FLUX.1 Kontext [pro] edits one image; ${more.length} more were not sent.`,
      });
    }
    candidate = {
      prompt: options.prompt,
      input_image: image,
      aspect_ratio: 'match_input_image',
      ...seed,
      output_format: 'png',
    };
  } else {
    const takesImage = options.task === 'image_to_image';
    if (takesImage && model.imageSchema) schema = model.imageSchema;
    candidate = {
      prompt: options.prompt,
      // With an init image Flux renders at the image's shape, so a mapped ratio is no news to the caller.
      aspect_ratio: chooseAspectRatio(options, model.aspectRatios, takesImage ? [] : warnings),
      ...(model.takesNumOutputs ? { num_outputs: options.n } : {}),
      ...seed,
      output_format: 'png',
      ...(model.takesNumOutputs ? { go_fast: true, megapixels: '1' } : {}),
      // Flux's `prompt_strength` means what our `strength` means: 0 keeps the init image, 1 ignores it.
      ...(takesImage ? { image, prompt_strength: options.strength } : {}),
    };
  }
  if (options.negativePrompt !== undefined && model.kind !== 'esrgan') {
    warnings.push({
      type: 'unsupported',
      feature: 'negative_prompt',
      detail: 'Flux takes no negative prompt; it was not sent.',
    });
  }
  const parsed = schema.safeParse(candidate);
  if (!parsed.success) {
    throw rejected(`Replicate input for ${providerModel} is invalid: ${parsed.error.message}`);
  }
  return { input: parsed.data, warnings };
}

/**
 * The model's mapping, once the call is one it can serve: a task it declares, with the input image that
 * task needs. Throws ProviderCallError('rejected') otherwise, before anything is uploaded or paid for.
 */
export function checkReplicateTask(
  providerModel: string,
  options: Pick<ImageModelCallOptions, 'task' | 'inputImages'>,
): ReplicateModelInputs {
  const model = modelInputs[providerModel];
  if (!model) throw new Error(`No Replicate input mapping for ${providerModel}`);
  if (!model.capabilities.includes(options.task)) {
    throw rejected(`${providerModel} cannot do ${options.task} (it does ${model.capabilities.join(', ')})`);
  }
  if (options.task !== 'text_to_image' && (options.inputImages?.length ?? 0) === 0) {
    throw rejected(`${options.task} needs an input image, and the call has none`);
  }
  return model;
}

function rejected(message: string): ProviderCallError {
  return new ProviderCallError('rejected', message, { provider: 'replicate' });
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
