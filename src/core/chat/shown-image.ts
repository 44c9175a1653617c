import type { GenerationRecord } from '../generation/generation-records.ts';
import type { GeneratedImageResult } from '../generation/image-generator.ts';
import type { GenerationWarning } from '../providers/image-model.ts';

/**
 * One image as a chat message shows it, from a fresh result or a stored record alike, so Discord and Slack
 * describe an image from the same facts.
 */
export interface ShownImage {
  id: string;
  /** The quota subject the image belongs to: buttons name it to find the record again. */
  owner: string;
  batchId: string | undefined;
  prompt: string;
  promptUsed: string;
  negativePrompt: string | undefined;
  style: string | undefined;
  model: string;
  seed: number | undefined;
  width: number;
  height: number;
  quality: 'standard' | 'high';
  seconds: number;
  warnings: readonly GenerationWarning[];
  imageUrl: string;
  contentType: string;
  createdAt: Date;
}

/** A just-delivered image. */
export function shownFromResult(owner: string, result: GeneratedImageResult): ShownImage {
  return {
    id: result.id,
    owner,
    batchId: result.batchId,
    prompt: result.prompt,
    promptUsed: result.promptUsed,
    negativePrompt: result.negativePrompt,
    style: result.style,
    model: result.model,
    seed: result.seed,
    width: result.size.width,
    height: result.size.height,
    quality: result.quality,
    seconds: result.generationSeconds,
    warnings: result.warnings,
    imageUrl: result.imageUrl,
    contentType: result.contentType,
    createdAt: result.createdAt,
  };
}

/** A stored image a button or a history view names. */
export function shownFromRecord(record: GenerationRecord): ShownImage {
  return {
    id: record.id,
    owner: record.userId,
    batchId: record.batchId,
    prompt: record.prompt,
    promptUsed: record.promptUsed,
    negativePrompt: record.negativePrompt,
    style: record.style,
    model: record.model,
    seed: record.seed,
    width: record.width,
    height: record.height,
    quality: record.quality,
    seconds: record.generationMs / 1000,
    warnings: record.warnings,
    imageUrl: record.imageUrl,
    contentType: record.contentType,
    createdAt: record.createdAt,
  };
}
