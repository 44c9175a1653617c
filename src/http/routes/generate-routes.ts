import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { batchRequestSchema, imageRequestSchema } from '../../core/generation/generation-request.ts';
import type { ImageGenerator } from '../../core/generation/image-generator.ts';
import { batchResponse, imageResponse } from '../image-response.ts';
import { abortSignalFor } from '../request-abort-signal.ts';
import {
  batchResponseSchema,
  commonErrorResponses,
  errorResponseSchema,
  imageResponseSchema,
} from '../schemas/response-schemas.ts';

const generationErrors = {
  ...commonErrorResponses,
  402: errorResponseSchema.describe('graphics_limit_reached: the monthly limit is used up'),
  403: errorResponseSchema.describe('model_not_allowed: the plan does not include that model'),
  502: errorResponseSchema.describe('generation_failed'),
  503: errorResponseSchema.describe('provider_unavailable or budget_exhausted'),
};

/** `POST /api/v1/generate/image` and `/batch`: the contract the mobile app calls. */
export const generateRoutes: FastifyPluginAsyncZod<{ generator: ImageGenerator }> = async (
  app,
  { generator },
) => {
  app.post(
    '/api/v1/generate/image',
    {
      schema: {
        summary: 'Generate one image',
        tags: ['generate'],
        security: [{ bearer: [] }],
        body: imageRequestSchema,
        response: { 201: imageResponseSchema, ...generationErrors },
      },
    },
    async (request, reply) => {
      const outcome = await generator.generateValidated(request.body, {
        caller: request.caller,
        scope: undefined,
        source: 'api',
        abortSignal: abortSignalFor(reply),
      });
      const [image] = outcome.images;
      if (!image) throw new Error('a generation reported success without an image');
      return reply.code(201).send(imageResponse(image, outcome.usage, outcome.generationSeconds));
    },
  );

  app.post(
    '/api/v1/generate/image/batch',
    {
      schema: {
        summary: 'Generate 1–4 images of one prompt, or one image for each of up to 4 prompts',
        tags: ['generate'],
        security: [{ bearer: [] }],
        body: batchRequestSchema,
        response: { 201: batchResponseSchema, ...generationErrors },
      },
    },
    async (request, reply) => {
      const outcome = await generator.generateBatchValidated(request.body, {
        caller: request.caller,
        scope: undefined,
        source: 'api',
        abortSignal: abortSignalFor(reply),
      });
      return reply.code(201).send(batchResponse(outcome));
    },
  );
};
