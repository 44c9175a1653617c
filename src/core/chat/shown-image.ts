import type { GenerationKind, GenerationRecord } from '../generation/generation-records.ts';
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
  /** The stored image it was made from, and how (lineage); both undefined for text-to-image. */
  parentId: string | undefined;
  kind: GenerationKind | undefined;
}

const lineageWords: Record<GenerationKind, string> = {
  variation: 'A variation of image',
  remix: 'A remix of image',
  upscale: 'An upscale of image',
  image_to_image: 'Redrawn from image',
};

/**
 * Where an image came from, in a sentence both bots show in Details (`A variation of image 0190…`);
 * undefined for an image drawn from text alone.
 */
export function lineageText(image: Pick<ShownImage, 'parentId' | 'kind'>): string | undefined {
  if (image.kind === undefined) return undefined;
  if (image.parentId === undefined) return 'Redrawn from an image the requester gave';
  return `${lineageWords[image.kind]} ${image.parentId}`;
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
    parentId: result.parentId,
    kind: result.kind,
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
    parentId: record.parentId,
    kind: record.kind,
  };
}
