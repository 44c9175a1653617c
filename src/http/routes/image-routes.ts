import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { upscaleRequestSchema, variationRequestSchema } from '../../core/generation/generation-request.ts';
import { asyncHeaders, type RestGenerations } from '../generation-jobs.ts';
import { errorResponse, imageResponseSchema } from '../schemas/response-schemas.ts';
import { generationResponses } from './generate-routes.ts';

const variationBodySchema = variationRequestSchema.meta({
  id: 'VariationRequest',
  description: 'A variation of a stored image (subtle, strong or a strength), or a remix with a new prompt',
  example: { strength: 'subtle' },
});

const upscaleBodySchema = upscaleRequestSchema.meta({
  id: 'UpscaleRequest',
  description: 'A stored image enlarged 2 or 4 times each side',
  example: { factor: 2 },
});

const notYours = { 404: errorResponse('not_found: you have no image with that id') };

const imageParams = z.object({ id: z.string().min(1).max(64).describe('The id of one of your images') });

/**
 * `POST /api/v1/images/{id}/variations` and `/upscale`: new images from the caller's own stored ones, run as
 * durable jobs like generate and answered in the same `ImageGenerationResponse` shape, with `parent_id`.
 */
export const imageRoutes: FastifyPluginAsyncZod<{ generation: RestGenerations }> = async (
  app,
  { generation },
) => {
  app.post(
    '/api/v1/images/:id/variations',
    {
      config: { rateLimitBudget: 'generation' },
      schema: {
        operationId: 'createImageVariation',
        summary: 'A variation of one of your images, or a remix of it with a new prompt',
        tags: ['images'],
        security: [{ bearer: [] }],
        params: imageParams,
        headers: asyncHeaders,
        body: variationBodySchema,
        response: {
          ...generationResponses(imageResponseSchema, 'The variation, generated and stored'),
          ...notYours,
        },
      },
    },
    async (request, reply) => {
      await generation.handle(
        { kind: 'variation', imageId: request.params.id, body: request.body },
        request,
        reply,
      );
    },
  );

  app.post(
    '/api/v1/images/:id/upscale',
    {
      config: { rateLimitBudget: 'generation' },
      schema: {
        operationId: 'upscaleImage',
        summary: 'One of your images enlarged 2 or 4 times each side',
        tags: ['images'],
        security: [{ bearer: [] }],
        params: imageParams,
        headers: asyncHeaders,
        body: upscaleBodySchema,
        response: { ...generationResponses(imageResponseSchema, 'The upscaled image, stored'), ...notYours },
      },
    },
    async (request, reply) => {
      await generation.handle(
        { kind: 'upscale', imageId: request.params.id, body: request.body },
        request,
        reply,
      );
    },
  );
};
