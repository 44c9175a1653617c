import { z } from 'zod';
import { validationError } from '../errors/imagine-error.ts';
import { findStylePreset, stylePresets } from '../styles/style-presets.ts';
import { aspectRatios, maximumSide, minimumSide, parseSize } from './image-dimensions.ts';
import { cleanPromptText, hasVisibleCharacter } from './prompt-text.ts';

/** The most images one batch may ask for. */
export const maximumBatchImages = 4;

/** The longest prompt, in UTF-16 code units (what `String.length` and Discord's `max_length` count). */
export const maximumPromptLength = 2000;
/** The longest negative prompt. */
export const maximumNegativePromptLength = 1000;

const prompt = z
  .string({ error: 'prompt must be a string' })
  .overwrite(cleanPromptText)
  .min(1, 'prompt must not be empty')
  // Only spaces or zero-width characters: as empty as "" to the model and to whoever reads it.
  .refine((text) => text === '' || hasVisibleCharacter(text), 'prompt must not be empty')
  .max(maximumPromptLength, `prompt must be at most ${maximumPromptLength} characters`);

const size = z
  .string()
  .default('1024x1024')
  .superRefine((text, context) => {
    const parsed = parseSize(text);
    if (!parsed) {
      context.addIssue({ code: 'custom', message: 'size must look like WIDTHxHEIGHT, e.g. 1024x1024' });
    } else if ([parsed.width, parsed.height].some((side) => side < minimumSide || side > maximumSide)) {
      context.addIssue({ code: 'custom', message: `each side must be ${minimumSide}–${maximumSide} pixels` });
    }
  })
  .describe('WIDTHxHEIGHT; each side 256–2048. With aspect_ratio, the pixel budget.');

const style = z
  .string()
  .refine((name) => findStylePreset(name) !== undefined, {
    error: () => `unknown style; use one of: ${stylePresets.map((preset) => preset.name).join(', ')}`,
  })
  .optional()
  .describe('A style preset name (GET /api/v1/styles)');

/** The fields every generation request shares (`ImageGenerationRequest` in docs/api.md). */
export const imageRequestFields = {
  size,
  style,
  aspect_ratio: z.enum(aspectRatios).optional().describe('The shape; size then sets the pixel budget'),
  enhance_prompt: z
    .boolean()
    .default(true)
    .describe('Add quality terms to the prompt (a chosen style is always applied)'),
  negative_prompt: z
    .string()
    // Nothing visible means nothing to avoid: the same as an empty one.
    .overwrite((text) => {
      const cleaned = cleanPromptText(text);
      return hasVisibleCharacter(cleaned) ? cleaned : '';
    })
    .max(maximumNegativePromptLength)
    .optional()
    .describe('Extension: what to keep out of the image'),
  seed: z.number().int().min(0).max(4_294_967_295).optional().describe('Extension: for reproducible results'),
  model: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .optional()
    .describe('Extension: a model name; defaults to the server default'),
  quality: z.enum(['standard', 'high']).optional().describe('Extension: standard or high (default)'),
  image: z
    .string()
    .optional()
    .describe(
      'Extension: an init image (image-to-image; on a model that only edits, the reference for an edit by the prompt): an https URL on an allowed host, a data: URL, or base64 of a PNG, JPEG or WebP; at most MAX_INPUT_IMAGE_BYTES and 4096 px a side',
    ),
  strength: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('Extension, with image: how far to move from it, 0 (keep it) to 1 (ignore it); default 0.65'),
};

/** How far an image-to-image moves from its init image when the caller does not say. */
export const defaultStrength = 0.65;

/** `subtle` and `strong` variations, as strengths (Midjourney's Vary (Subtle) and Vary (Strong)). */
export const variationStrengths = { subtle: 0.35, strong: 0.75 } as const;

/** `POST /api/v1/images/{id}/variations` body: a variation of a stored image, or a remix with a new prompt. */
export const variationRequestSchema = z.object({
  strength: z
    .union([z.enum(['subtle', 'strong']), z.number().min(0).max(1)])
    .default('strong')
    .describe('subtle (0.35), strong (0.75, the default), or 0–1: how far to move from the image'),
  prompt: prompt.optional().describe("A new prompt (a remix); without one, the image's own prompt"),
});
/** A validated variation request. */
export type VariationRequest = z.infer<typeof variationRequestSchema>;

/** `POST /api/v1/images/{id}/upscale` body. */
export const upscaleRequestSchema = z.object({
  factor: z
    .union([z.literal(2), z.literal(4)])
    .default(2)
    .describe('How many times larger each side becomes: 2 (default) or 4'),
});
/** A validated upscale request. */
export type UpscaleRequest = z.infer<typeof upscaleRequestSchema>;

/** `POST /api/v1/generate/image` body. */
export const imageRequestSchema = z.object({ prompt, ...imageRequestFields });
/** A validated single-image request. */
export type ImageRequest = z.infer<typeof imageRequestSchema>;
/** A single-image request as a caller may send it (defaults not yet applied). */
export type ImageRequestInput = z.input<typeof imageRequestSchema>;

/** `POST /api/v1/generate/image/batch` body: `num_images` of one prompt, or one image per `prompts` entry. */
export const batchRequestSchema = z
  .object({
    prompt: prompt.optional(),
    prompts: z.array(prompt).min(1).max(maximumBatchImages).optional().describe('One image per prompt'),
    num_images: z
      .number()
      .int()
      .min(1)
      .max(maximumBatchImages)
      .optional()
      .describe('Images of the same prompt'),
    ...imageRequestFields,
  })
  .superRefine((request, context) => {
    if (!request.prompts && request.prompt === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['prompt'],
        message: 'give prompt (with num_images) or prompts',
      });
    }
    if (
      request.prompts &&
      request.num_images !== undefined &&
      request.num_images !== request.prompts.length
    ) {
      context.addIssue({
        code: 'custom',
        path: ['num_images'],
        message: 'num_images must match the number of prompts (or be left out)',
      });
    }
  });
/** A validated batch request. */
export type BatchRequest = z.infer<typeof batchRequestSchema>;
/** A batch request as a caller may send it. */
export type BatchRequestInput = z.input<typeof batchRequestSchema>;

/** A request parsed with `schema`, or a `validation_error` naming each field that is wrong. */
export function parseRequest<Output>(
  schema: {
    safeParse(
      input: unknown,
    ):
      | { success: true; data: Output }
      | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  input: unknown,
): Output {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw validationError(
    parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || 'body',
      message: issue.message,
    })),
  );
}
