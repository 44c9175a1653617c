import { z } from 'zod';
import { type ErrorCode, errorCodes } from '../../core/errors/error-codes.ts';
import { documented } from './documented-response.ts';
import { responseHeaders } from './response-headers.ts';

// `.meta({ id })` registers a schema in zod's global registry: the OpenAPI document then names it under
// `components.schemas` and every use is a `$ref`, which is what client generators turn into named types.

const errorCodeSchema = z
  .enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]])
  .meta({ id: 'ErrorCode', description: 'A stable, machine-readable error code' });

/**
 * `{ error, message, …context }`: every error body (docs/api.md). Loose, so context keys survive
 * serialization; the known ones are listed in the order the code that raises them writes them.
 */
export const errorResponseSchema = z
  .looseObject({
    error: errorCodeSchema,
    message: z.string().describe('A sentence for a person'),
    used: z
      .number()
      .int()
      .optional()
      .describe('graphics_limit_reached, scope_limit_reached: images counted against the limit reached'),
    limit: z
      .number()
      .int()
      .optional()
      .describe(
        'graphics_limit_reached, scope_limit_reached: the limit reached (monthly, or daily with limit_period)',
      ),
    limit_period: z
      .enum(['day'])
      .optional()
      .describe(
        'graphics_limit_reached: "day" when the daily allowance was reached (absent: the monthly one)',
      ),
    resets_at: z
      .string()
      .optional()
      .describe(
        'graphics_limit_reached with limit_period "day": when the allowance comes back (ISO 8601 UTC)',
      ),
    stage: z
      .enum(['output'])
      .optional()
      .describe(
        'content_policy_violation: "output" when the generated image was withheld (OUTPUT_MODERATION)',
      ),
    model: z
      .string()
      .optional()
      .describe('model_not_allowed, provider_unavailable, unsupported_by_model: the model asked for'),
    feature: z
      .string()
      .optional()
      .describe('unsupported_by_model: what the model cannot do (image_to_image, upscale, …)'),
    models: z.array(z.string()).optional().describe('unsupported_by_model: the models that can'),
    plan: z.string().optional().describe("model_not_allowed: the caller's plan"),
    retry_after: z
      .number()
      .int()
      .optional()
      .describe('rate_limited, provider_unavailable, budget_exhausted: seconds to wait (also Retry-After)'),
    details: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('validation_error: each field that is wrong'),
    request_id: z.string().optional().describe('internal_error: quote it when reporting the problem'),
  })
  .meta({ id: 'ErrorResponse', description: 'Every error body: a code, a sentence, and context' });

const usageSchema = z
  .object({
    used: z.number().int(),
    limit: z.number().int(),
    remaining: z.number().int(),
  })
  .meta({ id: 'MonthlyUsage', description: "The caller's monthly usage after this request" });

const warningSchema = z
  .object({
    type: z.enum(['unsupported', 'mapped', 'other']),
    feature: z.string(),
    detail: z.string(),
  })
  .meta({ id: 'GenerationWarning', description: 'Something the model could not do exactly as asked' });

/** How an image was made from another image (lineage). */
export const generationKinds = ['image_to_image', 'variation', 'remix', 'upscale'] as const;
const generationKindSchema = z
  .enum(generationKinds)
  .meta({ id: 'GenerationKind', description: 'How an image was made from an input image' });

/** `ImageGenerationResponse` (docs/api.md), with our extensions after the contract's fields. */
export const imageResponseSchema = z
  .object({
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
    parent_id: z
      .string()
      .optional()
      .describe('Extension: the image this one was made from (a variation, remix or upscale of it)'),
    kind: generationKindSchema
      .optional()
      .describe('Extension: how it was made from an input image; absent for text-to-image'),
  })
  .meta({ id: 'ImageGenerationResponse', description: 'One generated image, stored' });

/** `MultipleImageResponse` (docs/api.md). */
export const batchResponseSchema = z
  .object({
    success: z.literal(true),
    images: z.array(imageResponseSchema),
    total_cost: z.number(),
    generation_time: z.number(),
    count: z.number().int(),
    failed: z.number().int(),
    failures: z
      .array(z.object({ index: z.number().int(), error: errorCodeSchema, message: z.string() }))
      .describe('Extension: which images failed and why'),
    usage: usageSchema.describe("Extension: the caller's monthly usage after this request"),
  })
  .meta({ id: 'MultipleImageResponse', description: 'The images of a batch; failed > 0 when some failed' });

/** A job's state, in `JobAccepted` and `Job`. */
export const jobStatusSchema = z
  .enum(['queued', 'running', 'succeeded', 'failed', 'cancelled'])
  .meta({ id: 'JobStatus' });

/** An error body with what this route means by it, for a status the route may answer. */
export function errorResponse(description: string, headers: Record<string, object> = {}) {
  return documented(errorResponseSchema, description, headers);
}

/** The responses every authenticated route can give besides its own success. */
export const commonErrorResponses = {
  400: errorResponse('invalid_json: the body is not JSON'),
  401: errorResponse('unauthorized: the token is missing, invalid, expired or revoked'),
  413: errorResponse('payload_too_large: the body is larger than the server accepts'),
  422: errorResponse('validation_error: `details` names each field that is wrong'),
  429: errorResponse('rate_limited: too many requests this minute', {
    ...responseHeaders.retryAfter,
    ...responseHeaders.rateLimit,
  }),
  500: errorResponse('internal_error: something broke on our side; `request_id` says which request'),
};
