import { batchRequestSchema, imageRequestSchema } from '../../core/generation/generation-request.ts';

// The core's request schemas under the contract's names, for the OpenAPI document (see response-schemas.ts).
// `.meta()` returns a copy that validates exactly as the original. The example is what /docs fills in.

const example = {
  prompt: 'Flutter logo in office of pakistan',
  size: '1024x1024',
  style: 'realistic',
  aspect_ratio: '1:1',
  enhance_prompt: true,
};

/** `ImageGenerationRequest` (docs/api.md). */
export const imageGenerationRequestSchema = imageRequestSchema.meta({
  id: 'ImageGenerationRequest',
  description: 'One image of one prompt',
  example,
});

/** `MultipleImageRequest` (docs/api.md). */
export const multipleImageRequestSchema = batchRequestSchema.meta({
  id: 'MultipleImageRequest',
  description: 'Give `prompt` with `num_images` (1–4 of the same prompt), or `prompts` (one image each)',
  example: { ...example, num_images: 2 },
});
