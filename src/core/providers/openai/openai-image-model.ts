import type OpenAI from 'openai';
import type { ImageGenerateParamsNonStreaming } from 'openai/resources/images';
import { z } from 'zod';
import { callWithRetries, defaultRetryPolicy, type RetryPolicy } from '../call-with-retries.ts';
import type {
  GeneratedImage,
  GenerationWarning,
  ImageDimensions,
  ImageModel,
  ImageModelCallOptions,
  ImageModelResult,
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

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * DALL·E 3 or a GPT image model behind OpenAI's images API (or an OpenAI-compatible server). The size
 * asked for is mapped to the nearest one the model renders, with a warning; seed and negative prompt are
 * not supported and only warned about. Images always come back as base64 PNG, so nothing is downloaded.
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

      const size = nearestOpenAISize(options.size, allowedSizes);
      const body: ImageGenerateParamsNonStreaming = {
        model: vendorModel,
        prompt: options.prompt,
        n: options.n,
        size: sizeParameter(size),
        ...(isDallE
          ? { quality: options.quality === 'high' ? 'hd' : 'standard', response_format: 'b64_json' }
          : // GPT image models always answer in base64 and reject `response_format`.
            { quality: options.quality === 'high' ? 'high' : 'medium', output_format: 'png' }),
      };

      const { data, request_id } = await callWithRetries(
        (signal) => openai.images.generate(body, { signal }).withResponse(),
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
        warnings: warningsFor(options, size),
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
