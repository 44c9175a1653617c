import { z } from 'zod';

/** `{ error, message, …context }`: every error body (CONTRACT.md). Loose, so context keys survive serialization. */
export const errorResponseSchema = z
  .looseObject({
    error: z.string().describe('A stable error code'),
    message: z.string().describe('A sentence for a person'),
  })
  .describe('Error');

const usageSchema = z.object({
  used: z.number().int(),
  limit: z.number().int(),
  remaining: z.number().int(),
});

const warningSchema = z.object({
  type: z.enum(['unsupported', 'mapped', 'other']),
  feature: z.string(),
  detail: z.string(),
});

/** `ImageGenerationResponse` (CONTRACT.md), with our extensions after the contract's fields. */
export const imageResponseSchema = z.object({
  success: z.literal(true),
  image_url: z.string().describe('Durable URL of the stored image'),
  model: z.string(),
  generation_time: z.number().describe('Seconds'),
  cost: z.number().describe('US dollars'),
  size: z.string().describe('WIDTHxHEIGHT actually produced'),
  quality: z.string(),
  prompt_used: z.string().describe('The exact text sent to the model'),
  timestamp: z.string().describe('ISO 8601 UTC'),
  id: z.string().describe('Extension: the generation id'),
  seed: z.number().int().nullable().describe('Extension: the seed used, null when the model took none'),
  warnings: z.array(warningSchema).describe('Extension: what the model could not do exactly as asked'),
  usage: usageSchema.describe("Extension: the caller's monthly usage after this request"),
  revised_prompt: z
    .string()
    .optional()
    .describe("Extension: the provider's rewrite of the prompt, when it made one"),
});

/** `MultipleImageResponse` (CONTRACT.md). */
export const batchResponseSchema = z.object({
  success: z.literal(true),
  images: z.array(imageResponseSchema),
  total_cost: z.number(),
  generation_time: z.number(),
  count: z.number().int(),
  failed: z.number().int(),
  failures: z
    .array(z.object({ index: z.number().int(), error: z.string(), message: z.string() }))
    .describe('Extension: which images failed and why'),
  usage: usageSchema.describe("Extension: the caller's monthly usage after this request"),
});

/** The responses every authenticated route can give besides its own success. */
export const commonErrorResponses = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  413: errorResponseSchema,
  422: errorResponseSchema,
  429: errorResponseSchema,
  500: errorResponseSchema,
};
