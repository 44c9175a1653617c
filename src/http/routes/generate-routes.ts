import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { acceptedSchema, asyncHeaders, type RestGenerations } from '../generation-jobs.ts';
import { documented } from '../schemas/documented-response.ts';
import { imageGenerationRequestSchema, multipleImageRequestSchema } from '../schemas/request-schemas.ts';
import { responseHeaders } from '../schemas/response-headers.ts';
import {
  batchResponseSchema,
  commonErrorResponses,
  errorResponse,
  imageResponseSchema,
} from '../schemas/response-schemas.ts';

const generationErrors = {
  ...commonErrorResponses,
  402: errorResponse('graphics_limit_reached: the monthly limit is used up (`used`, `limit`)'),
  403: errorResponse('model_not_allowed: the plan does not include that model (`model`, `plan`)'),
  422: errorResponse(
    'validation_error (`details` names each field; a bad `image` says what was wrong), content_policy_violation: the prompt was refused, or unsupported_by_model: the model cannot take an image (`model`, `feature`, `models` that can)',
  ),
  502: errorResponse('generation_failed: the provider could not make the image'),
  503: errorResponse(
    'provider_unavailable (`retry_after` when known), budget_exhausted, storage_unavailable (the disk is full or failing; `retry_after`) or database_unavailable (PostgreSQL cannot be reached; `retry_after`)',
    responseHeaders.retryAfter,
  ),
};

/** The synchronous answer and the async one are separate statuses, so a generated client needs no narrowing. */
export function generationResponses(
  created: typeof imageResponseSchema | typeof batchResponseSchema,
  what: string,
) {
  return {
    201: documented(created, what, responseHeaders.idempotentReplayed),
    202: documented(acceptedSchema, 'With `Prefer: respond-async`: the job, to poll at `status_url`', {
      ...responseHeaders.location,
      ...responseHeaders.preferenceApplied,
      ...responseHeaders.idempotentReplayed,
    }),
    ...generationErrors,
  };
}

/** `POST /api/v1/generate/image` and `/batch`: the contract the mobile app calls, run as durable jobs. */
export const generateRoutes: FastifyPluginAsyncZod<{
  generation: RestGenerations;
  /** The body limit of a route that takes an `image`: MAX_INPUT_IMAGE_BYTES once base64-encoded. */
  imageBodyLimit: number;
}> = async (app, { generation, imageBodyLimit }) => {
  app.post(
    '/api/v1/generate/image',
    {
      config: { rateLimitBudget: 'generation' },
      bodyLimit: imageBodyLimit,
      schema: {
        operationId: 'generateImage',
        summary: 'Generate one image',
        tags: ['generate'],
        security: [{ bearer: [] }],
        headers: asyncHeaders,
        body: imageGenerationRequestSchema,
        response: generationResponses(imageResponseSchema, 'The image, generated and stored'),
      },
    },
    async (request, reply) => {
      await generation.handle({ kind: 'image', body: request.body }, request, reply);
    },
  );

  app.post(
    '/api/v1/generate/image/batch',
    {
      config: { rateLimitBudget: 'generation' },
      bodyLimit: imageBodyLimit,
      schema: {
        operationId: 'generateImageBatch',
        summary: 'Generate 1–4 images of one prompt, or one image for each of up to 4 prompts',
        tags: ['generate'],
        security: [{ bearer: [] }],
        headers: asyncHeaders,
        body: multipleImageRequestSchema,
        response: generationResponses(batchResponseSchema, 'The images; `failed` > 0 when some failed'),
      },
    },
    async (request, reply) => {
      await generation.handle({ kind: 'batch', body: request.body }, request, reply);
    },
  );
};
