import type { z } from 'zod';
import { isoTimestamp } from '../core/database/iso-timestamp.ts';
import type { GeneratedImageResult, GenerationOutcome } from '../core/generation/image-generator.ts';
import type { batchResponseSchema, imageResponseSchema } from './schemas/response-schemas.ts';

type Usage = GenerationOutcome['usage'];

/** ISO 8601 UTC to the second, as the contract's sample (`2025-11-27T10:30:00Z`). */
export function isoSeconds(instant: Date): string {
  return `${isoTimestamp(instant).slice(0, 19)}Z`;
}

function usageBody(usage: Usage) {
  return { used: usage.used, limit: usage.limit, remaining: usage.remaining };
}

/**
 * One delivered image in the contract's `ImageGenerationResponse` shape. `generationSeconds` overrides the
 * image's own time (a single-image response reports the whole request).
 */
export function imageResponse(
  image: GeneratedImageResult,
  usage: Usage,
  generationSeconds = image.generationSeconds,
): z.output<typeof imageResponseSchema> {
  return {
    success: true,
    image_url: image.imageUrl,
    model: image.model,
    generation_time: generationSeconds,
    cost: image.costUsd,
    size: `${image.size.width}x${image.size.height}`,
    quality: image.quality,
    prompt_used: image.promptUsed,
    timestamp: isoSeconds(image.createdAt),
    id: image.id,
    seed: image.seed ?? null,
    warnings: image.warnings,
    usage: usageBody(usage),
    ...(image.revisedPrompt === undefined ? {} : { revised_prompt: image.revisedPrompt }),
    ...(image.parentId === undefined ? {} : { parent_id: image.parentId }),
    ...(image.kind === undefined ? {} : { kind: image.kind }),
  };
}

/** A batch outcome in the contract's `MultipleImageResponse` shape. */
export function batchResponse(outcome: GenerationOutcome): z.output<typeof batchResponseSchema> {
  return {
    success: true,
    images: outcome.images.map((image) => imageResponse(image, outcome.usage)),
    total_cost: outcome.totalCostUsd,
    generation_time: outcome.generationSeconds,
    count: outcome.images.length,
    failed: outcome.failures.length,
    failures: outcome.failures.map((failure) => ({
      index: failure.index,
      error: failure.error.code,
      message: failure.error.message,
    })),
    usage: usageBody(outcome.usage),
  };
}
