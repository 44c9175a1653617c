import { batchRequestSchema, imageRequestSchema } from '../../core/generation/generation-request.ts';

// The core's request schemas under the contract's names, for the OpenAPI document (see response-schemas.ts).
// `.meta()` returns a copy that validates exactly as the original.

/** `ImageGenerationRequest` (CONTRACT.md). */
export const imageGenerationRequestSchema = imageRequestSchema.meta({
  id: 'ImageGenerationRequest',
  description: 'One image of one prompt',
});

/** `MultipleImageRequest` (CONTRACT.md). */
export const multipleImageRequestSchema = batchRequestSchema.meta({
  id: 'MultipleImageRequest',
  description: 'Give `prompt` with `num_images` (1–4 of the same prompt), or `prompts` (one image each)',
});
