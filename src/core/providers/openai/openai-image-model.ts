import type OpenAI from 'openai';
import { toFile } from 'openai';
import type { ImageEditParamsNonStreaming, ImageGenerateParamsNonStreaming } from 'openai/resources/images';
import { z } from 'zod';
import { callWithRetries, defaultRetryPolicy, type RetryPolicy } from '../call-with-retries.ts';
import type {
  GeneratedImage,
  GenerationWarning,
  ImageDimensions,
  ImageModel,
  ImageModelCallOptions,
  ImageModelResult,
  InputImage,
  ModelCapability,
} from '../image-model.ts';
import type { ModelDescriptor } from '../model-catalog.ts';
import { ProviderCallError } from '../provider-error.ts';
import { createOpenAIClient } from './openai-client.ts';
import { classifyOpenAIError } from './openai-error.ts';

/** What an OpenAI image model needs; the key is checked at call time, so a missing one names the variable. */
export interface OpenAIImageModelSettings {
  apiKey: string | undefined;
  /** The variable to name when the key is missing (OPENAI_API_KEY, or the entry's `api_key_env`). */
  keyVariable?: string;
  baseUrl: string | undefined;
  descriptor: ModelDescriptor;
  retryPolicy?: RetryPolicy;
  now?: () => Date;
}

type SizeParameter = NonNullable<ImageGenerateParamsNonStreaming['size']>;

/** Every fixed size the SDK's `size` accepts for DALL·E 3 and the GPT image models. */
const sizeParameters: readonly SizeParameter[] = [
  '1024x1024',
  '1792x1024',
  '1024x1792',
  '1536x1024',
  '1024x1536',
];

/** The part of the images response we rely on; anything else OpenAI adds is ignored. */
const imagesResponseSchema = z.object({
  data: z.array(z.object({ b64_json: z.string().min(1), revised_prompt: z.string().optional() })).min(1),
});

/** The most reference images one GPT image edit takes (OpenAI's images API reference). */
export const maxEditImages = 16;

/** What a vendor model can do: the GPT image models also edit (`images.edit`); DALL·E 3 only draws. */
export function openAIModelCapabilities(vendorModel: string): readonly ModelCapability[] {
  return vendorModel.startsWith('gpt-image') ? ['text_to_image', 'edit'] : ['text_to_image'];
}

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * DALL·E 3 or a GPT image model behind OpenAI's images API (or an OpenAI-compatible server). The size
 * asked for is mapped to the nearest one the model renders, with a warning; seed and negative prompt are
 * not supported and only warned about. Images always come back as base64 PNG, so nothing is downloaded.
 * An `edit` call goes to `images.edit` (multipart) with the reference images as `image[]`, in order.
 */
export function createOpenAIImageModel(settings: OpenAIImageModelSettings): ImageModel {
  const { descriptor } = settings;
  const allowedSizes = checkedSizes(descriptor);
  const policy = settings.retryPolicy ?? defaultRetryPolicy;
  const now = settings.now ?? (() => new Date());
  const vendorModel = descriptor.providerModel ?? descriptor.id;
  const isDallE = vendorModel.startsWith('dall-e');
  const keyVariable = settings.keyVariable ?? 'OPENAI_API_KEY';
  let client: OpenAI | undefined;

  return {
    provider: 'openai',
    modelId: descriptor.id,
    maxImagesPerCall: descriptor.maxImagesPerCall,
    async generate(options: ImageModelCallOptions): Promise<ImageModelResult> {
      const apiKey = settings.apiKey;
      if (!apiKey) {
        throw new ProviderCallError('credentials', `${keyVariable} is not set`, { provider: 'openai' });
      }
      if (!Number.isInteger(options.n) || options.n < 1 || options.n > descriptor.maxImagesPerCall) {
        // The core splits requests by maxImagesPerCall, so this is a caller's bug, not a user's mistake.
        throw new RangeError(
          `${descriptor.id} takes 1 to ${descriptor.maxImagesPerCall} images a call, not ${options.n}`,
        );
      }
      client ??= createOpenAIClient({ apiKey, baseUrl: settings.baseUrl });
      const openai = client;

      const capabilities = openAIModelCapabilities(vendorModel);
      if (!capabilities.includes(options.task) || !descriptor.capabilities.includes(options.task)) {
        throw rejected(
          `${descriptor.id} cannot do ${options.task} (it does ${descriptor.capabilities.join(', ')})`,
        );
      }
      const references = options.task === 'edit' ? (options.inputImages ?? []) : [];
      if (options.task === 'edit' && references.length === 0) {
        throw rejected('edit needs at least one reference image, and the call has none');
      }

      const size = nearestOpenAISize(options.size, allowedSizes);
      const warnings = warningsFor(options, size);
      const generateBody: ImageGenerateParamsNonStreaming = {
        model: vendorModel,
        prompt: options.prompt,
        n: options.n,
        size: sizeParameter(size),
        ...(isDallE
          ? { quality: options.quality === 'high' ? 'hd' : 'standard', response_format: 'b64_json' }
          : // GPT image models always answer in base64 and reject `response_format`.
            { quality: options.quality === 'high' ? 'high' : 'medium', output_format: 'png' }),
      };
      if (references.length > maxEditImages) {
        warnings.push({
          type: 'unsupported',
          feature: 'input_images',
          detail: `${vendorModel} edits with at most ${maxEditImages} images; ${references.length - maxEditImages} more were not sent.`,
        });
      }
      const files = await Promise.all(references.slice(0, maxEditImages).map(referenceFile));
      const edit = files.length === 0 ? undefined : editBody(vendorModel, options, size, files);

      const { data, request_id } = await callWithRetries(
        (signal) =>
          edit === undefined
            ? openai.images.generate(generateBody, { signal }).withResponse()
            : openai.images.edit(edit, { signal }).withResponse(),
        {
          policy,
          classify: (error) => classifyOpenAIError(error, now()),
          abortSignal: options.abortSignal,
        },
      );

      const parsed = imagesResponseSchema.safeParse(data);
      if (!parsed.success) {
        throw new ProviderCallError('malformed', `OpenAI sent no base64 images: ${parsed.error.message}`, {
          provider: 'openai',
        });
      }
      const images = parsed.data.data.map((image) => decodePng(image.b64_json));
      return {
        images,
        warnings,
        response: {
          modelId: descriptor.id,
          timestamp: now(),
          providerRequestId: request_id ?? undefined,
          revisedPrompt: parsed.data.data[0]?.revised_prompt,
        },
        usage: { costUsd: descriptor.priceUsd(size, options.quality) * images.length },
      };
    },
  };
}

/** The edit request: a GPT image model's generation fields, and the reference images in order. */
function editBody(
  vendorModel: string,
  options: ImageModelCallOptions,
  size: ImageDimensions,
  images: Awaited<ReturnType<typeof toFile>>[],
): ImageEditParamsNonStreaming {
  return {
    model: vendorModel,
    prompt: options.prompt,
    image: images,
    n: options.n,
    size: editSizeParameter(size),
    quality: options.quality === 'high' ? 'high' : 'medium',
    output_format: 'png',
  };
}

type EditSizeParameter = NonNullable<ImageEditParamsNonStreaming['size']>;
const editSizeParameters: readonly EditSizeParameter[] = ['1024x1024', '1536x1024', '1024x1536', '512x512'];

function editSizeParameter(size: ImageDimensions): EditSizeParameter {
  const text = formatSize(size);
  const parameter = editSizeParameters.find((candidate) => candidate === text);
  if (!parameter) throw rejected(`OpenAI's image edits take no size ${text}`);
  return parameter;
}

/** A reference image as the multipart file the edit endpoint takes, named by its type. */
function referenceFile(image: InputImage, index: number) {
  const extension = image.mediaType === 'image/jpeg' ? 'jpg' : image.mediaType.slice('image/'.length);
  return toFile(image.bytes, `image-${index + 1}.${extension}`, { type: image.mediaType });
}

function rejected(message: string): ProviderCallError {
  return new ProviderCallError('rejected', message, { provider: 'openai' });
}

/**
 * The allowed size closest in shape to `size` (aspect ratios compared on a log scale, so 2:1 and 1:2 are
 * equally far from square), then closest in area.
 */
export function nearestOpenAISize(
  size: ImageDimensions,
  allowed: readonly ImageDimensions[],
): ImageDimensions {
  let best: ImageDimensions | undefined;
  let bestShape = Number.POSITIVE_INFINITY;
  let bestArea = Number.POSITIVE_INFINITY;
  for (const candidate of allowed) {
    const shape = Math.abs(Math.log(size.width / size.height / (candidate.width / candidate.height)));
    const area = Math.abs(Math.log((size.width * size.height) / (candidate.width * candidate.height)));
    const sameShape = Math.abs(shape - bestShape) < 1e-9;
    if ((sameShape && area < bestArea) || (!sameShape && shape < bestShape)) {
      best = candidate;
      bestShape = shape;
      bestArea = area;
    }
  }
  if (!best) throw new RangeError('nearestOpenAISize needs at least one allowed size');
  return best;
}

function checkedSizes(descriptor: ModelDescriptor): readonly ImageDimensions[] {
  const sizes = descriptor.fixedSizes ?? [];
  if (descriptor.provider !== 'openai' || sizes.length === 0) {
    throw new Error(`${descriptor.id} is not an OpenAI model with fixed sizes`);
  }
  for (const size of sizes) sizeParameter(size);
  return sizes;
}

function sizeParameter(size: ImageDimensions): SizeParameter {
  const text = formatSize(size);
  const parameter = sizeParameters.find((candidate) => candidate === text);
  if (!parameter) throw new Error(`OpenAI's images API has no size ${text}`);
  return parameter;
}

function formatSize(size: ImageDimensions): string {
  return `${size.width}x${size.height}`;
}

function warningsFor(options: ImageModelCallOptions, size: ImageDimensions): GenerationWarning[] {
  const warnings: GenerationWarning[] = [];
  if (size.width !== options.size.width || size.height !== options.size.height) {
    warnings.push({
      type: 'mapped',
      feature: 'size',
      detail: `${formatSize(options.size)} → ${formatSize(size)}`,
    });
  }
  if (options.seed !== undefined) {
    warnings.push({
      type: 'unsupported',
      feature: 'seed',
      detail: 'OpenAI image models take no seed, so the same request can give a different image.',
    });
  }
  if (options.negativePrompt !== undefined) {
    warnings.push({
      type: 'unsupported',
      feature: 'negative_prompt',
      detail: 'OpenAI image models take no negative prompt; it was not sent.',
    });
  }
  return warnings;
}

function decodePng(base64: string): GeneratedImage {
  const bytes = Buffer.from(base64, 'base64');
  const isPng = bytes.length >= 24 && pngSignature.every((byte, index) => bytes[index] === byte);
  if (!isPng) {
    throw new ProviderCallError('malformed', 'OpenAI sent an image that is not a PNG', {
      provider: 'openai',
    });
  }
  // The size is read from the PNG header (IHDR), so the response reports what was stored, not what was asked.
  return {
    bytes,
    mediaType: 'image/png',
    dimensions: { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) },
  };
}
