import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GenerationRecords } from '../../core/generation/generation-records.ts';
import type { ImageModelRegistry } from '../../core/providers/image-model-registry.ts';
import type { ModelDescriptor } from '../../core/providers/model-catalog.ts';
import { stylePresets } from '../../core/styles/style-presets.ts';
import { isoSeconds } from '../image-response.ts';
import { commonErrorResponses, generationKinds } from '../schemas/response-schemas.ts';

const stylesResponseSchema = z.object({
  styles: z.array(
    z.object({
      name: z.string().describe('The value to send as `style`'),
      label: z.string(),
      description: z.string(),
    }),
  ),
});
z.globalRegistry.add(stylesResponseSchema, {
  id: 'StyleList',
  description: 'The style presets `style` accepts',
});

const modelsResponseSchema = z.object({
  models: z.array(
    z.object({
      id: z.string().describe('The value to send as `model`'),
      provider: z.string(),
      description: z.string(),
      sizes: z
        .union([z.literal('any'), z.array(z.string())])
        .describe('`any`, or the only sizes (WIDTHxHEIGHT) the model renders; others map to the nearest'),
      max_images_per_call: z.number().int(),
      price_usd: z.number().describe('US dollars for one 1024x1024 image at the default (high) quality'),
      capabilities: z.array(z.enum(['text_to_image', 'image_to_image', 'edit', 'upscale'])),
      default: z.boolean().describe('Whether requests that name no model use it'),
    }),
  ),
});

z.globalRegistry.add(modelsResponseSchema, {
  id: 'ModelList',
  description: "The models the caller's plan may use on this server",
});

const square = { width: 1024, height: 1024 };

function modelItem(model: ModelDescriptor, defaultModel: string) {
  return {
    id: model.id,
    provider: model.provider,
    description: model.description,
    sizes: model.fixedSizes
      ? model.fixedSizes.map((size) => `${size.width}x${size.height}`)
      : ('any' as const),
    max_images_per_call: model.maxImagesPerCall,
    price_usd: model.priceUsd(square, 'high'),
    capabilities: [...model.capabilities],
    default: model.id === defaultModel,
  };
}

const historyItemSchema = z.object({
  id: z.string(),
  image_url: z.string(),
  model: z.string(),
  size: z.string(),
  quality: z.string(),
  prompt: z.string(),
  prompt_used: z.string(),
  style: z.string().nullable(),
  seed: z.number().int().nullable(),
  cost: z.number(),
  source: z.string().describe('api, discord, slack or cli'),
  timestamp: z.string(),
  parent_id: z.string().nullable().describe('The image this one was made from; null for text-to-image'),
  kind: z
    .enum(generationKinds)
    .nullable()
    .describe('How it was made from that image; null for text-to-image'),
});
z.globalRegistry.add(historyItemSchema, { id: 'ImageRecord', description: 'One image the caller generated' });

const historyResponseSchema = z.object({
  images: z.array(historyItemSchema),
  next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});
z.globalRegistry.add(historyResponseSchema, {
  id: 'ImageList',
  description: "A page of the caller's images, newest first",
});

/** `GET /api/v1/styles`, `GET /api/v1/models` and `GET /api/v1/images`. */
export const catalogRoutes: FastifyPluginAsyncZod<{
  records: GenerationRecords;
  models: ImageModelRegistry;
  defaultModel: string;
}> = async (app, { records, models, defaultModel }) => {
  app.get(
    '/api/v1/models',
    {
      schema: {
        operationId: 'listModels',
        summary: "The models the caller's plan may use on this server",
        tags: ['catalog'],
        security: [{ bearer: [] }],
        response: { 200: modelsResponseSchema, ...commonErrorResponses },
      },
    },
    async (request) => ({
      models: models.availableTo(request.caller.plan).map((model) => modelItem(model, defaultModel)),
    }),
  );

  app.get(
    '/api/v1/styles',
    {
      schema: {
        operationId: 'listStyles',
        summary: 'The style presets `style` accepts',
        tags: ['catalog'],
        security: [{ bearer: [] }],
        response: { 200: stylesResponseSchema, ...commonErrorResponses },
      },
    },
    async () => ({
      styles: stylePresets.map((preset) => ({
        name: preset.name,
        label: preset.label,
        description: preset.description,
      })),
    }),
  );

  app.get(
    '/api/v1/images',
    {
      schema: {
        operationId: 'listImages',
        summary: "The caller's images, newest first",
        tags: ['catalog'],
        security: [{ bearer: [] }],
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(20),
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: historyResponseSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const page = await records.listForUser(request.caller.userId, {
        limit: request.query.limit,
        cursor: request.query.cursor,
      });
      return {
        images: page.records.map((record) => ({
          id: record.id,
          image_url: record.imageUrl,
          model: record.model,
          size: `${record.width}x${record.height}`,
          quality: record.quality,
          prompt: record.prompt,
          prompt_used: record.promptUsed,
          style: record.style ?? null,
          seed: record.seed ?? null,
          cost: record.costUsd,
          source: record.source,
          timestamp: isoSeconds(record.createdAt),
          parent_id: record.parentId ?? null,
          kind: record.kind ?? null,
        })),
        next_cursor: page.nextCursor ?? null,
      };
    },
  );
};
