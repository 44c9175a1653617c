import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiKeySummary, ApiKeys } from '../../../core/accounts/api-keys.ts';
import type { AdminImage } from '../../../core/admin/admin-queries.ts';
import type { AdminServices } from '../../../core/admin/admin-services.ts';
import { documented } from '../../schemas/documented-response.ts';
import { errorResponse } from '../../schemas/response-schemas.ts';
import {
  adminErrorResponses,
  adminResponseHeaders,
  apiKeySchema,
  createdKeySchema,
  createKeyRequestSchema,
  deletedImageResponseSchema,
  imageListResponseSchema,
  keyListResponseSchema,
  pageQuerySchema,
  planChangeResponseSchema,
  updateUserRequestSchema,
  userListResponseSchema,
} from './admin-schemas.ts';

const security = [{ bearer: [] }];

/** Admin changes and the lists they act on: users and plans, images, API keys. */
export const adminManageRoutes: FastifyPluginAsyncZod<{ admin: AdminServices; apiKeys: ApiKeys }> = async (
  app,
  { admin, apiKeys },
) => {
  app.get(
    '/api/v1/admin/users',
    {
      schema: {
        operationId: 'adminListUsers',
        summary: 'App accounts by uid, optionally those whose uid or linked identity contains `query`',
        tags: ['admin'],
        security,
        querystring: pageQuerySchema.extend({ query: z.string().max(200).default('') }),
        response: {
          200: userListResponseSchema,
          ...adminErrorResponses,
        },
      },
    },
    async (request) => {
      const page = await admin.queries.users({
        query: request.query.query,
        cursor: request.query.cursor,
        limit: request.query.limit,
      });
      return {
        users: page.items.map((user) => ({
          uid: user.userId,
          plan: user.plan,
          linked_identities: user.linkedIdentities,
          used_this_month: user.usedThisMonth,
          created_at: user.createdAt,
        })),
        next_cursor: page.nextCursor ?? null,
        plans: admin.queries.planNames(),
      };
    },
  );

  app.patch(
    '/api/v1/admin/users/:uid',
    {
      schema: {
        operationId: 'adminUpdateUser',
        summary: "Changes a user's plan",
        tags: ['admin'],
        security,
        params: z.object({ uid: z.string().min(1).max(256) }),
        body: updateUserRequestSchema,
        response: {
          200: planChangeResponseSchema,
          ...adminErrorResponses,
          404: errorResponse('not_found: no user has this uid'),
          422: errorResponse(
            'validation_error: `details` names each field that is wrong, or the plan is unknown',
          ),
        },
      },
    },
    async (request) => {
      const change = await admin.actions.setPlan(request.adminActor, request.params.uid, request.body.plan);
      return { uid: request.params.uid, plan: change.after, previous_plan: change.before };
    },
  );

  app.get(
    '/api/v1/admin/images',
    {
      schema: {
        operationId: 'adminListImages',
        summary: "Every user's stored images, newest first",
        tags: ['admin'],
        security,
        querystring: pageQuerySchema.extend({
          user: z.string().min(1).max(256).optional(),
          source: z.enum(['api', 'discord', 'slack', 'cli']).optional(),
        }),
        response: {
          200: imageListResponseSchema,
          ...adminErrorResponses,
        },
      },
    },
    async (request) => {
      const page = await admin.queries.images({
        userId: request.query.user,
        source: request.query.source,
        cursor: request.query.cursor,
        limit: request.query.limit,
      });
      return { images: page.items.map(imageBody), next_cursor: page.nextCursor ?? null };
    },
  );

  app.delete(
    '/api/v1/admin/images/:id',
    {
      schema: {
        operationId: 'adminDeleteImage',
        summary: 'Removes an image file and its record; usage is refunded only with `?refund=true`',
        tags: ['admin'],
        security,
        params: z.object({ id: z.string().min(1).max(64) }),
        querystring: z.object({ refund: z.enum(['true', 'false']).default('false') }),
        response: {
          200: deletedImageResponseSchema,
          ...adminErrorResponses,
          404: errorResponse('not_found: no image has this id'),
        },
      },
    },
    async (request) => {
      const refund = request.query.refund === 'true';
      const deleted = await admin.actions.deleteImage(request.adminActor, request.params.id, { refund });
      return { deleted: imageBody(deleted), refunded: refund };
    },
  );

  app.get(
    '/api/v1/admin/keys',
    {
      schema: {
        operationId: 'adminListKeys',
        summary: 'Every API key, revoked ones too, without secrets',
        tags: ['admin'],
        security,
        response: { 200: keyListResponseSchema, ...adminErrorResponses },
      },
    },
    async () => ({ keys: (await apiKeys.list()).map(keyBody) }),
  );

  app.post(
    '/api/v1/admin/keys',
    {
      schema: {
        operationId: 'adminCreateKey',
        summary: 'Creates an API key; the key is in this response only',
        tags: ['admin'],
        security,
        body: createKeyRequestSchema,
        response: {
          201: documented(
            createdKeySchema,
            'The new API key, its secret included this once',
            adminResponseHeaders.noStore,
          ),
          ...adminErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const created = await admin.actions.createKey(request.adminActor, {
        userId: request.body.uid,
        plan: request.body.plan,
        label: request.body.label,
        admin: request.body.admin,
      });
      // A secret must not sit in a cache on the way back.
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...keyBody(created.summary), key: created.key });
    },
  );

  app.delete(
    '/api/v1/admin/keys/:prefix',
    {
      schema: {
        operationId: 'adminRevokeKey',
        summary: 'Revokes an API key by its prefix; console sessions signed in with it end too',
        tags: ['admin'],
        security,
        params: z.object({ prefix: z.string().regex(/^imk_[A-Za-z0-9]{8}$/, 'a key prefix as listed') }),
        response: {
          200: documented(apiKeySchema, 'The key, revoked'),
          ...adminErrorResponses,
          404: errorResponse('not_found: no key has this prefix'),
        },
      },
    },
    async (request) => keyBody(await admin.actions.revokeKey(request.adminActor, request.params.prefix)),
  );
};

function imageBody(image: AdminImage) {
  return {
    id: image.id,
    uid: image.userId,
    source: image.source,
    prompt: image.prompt,
    model: image.model,
    image_url: image.imageUrl,
    size: `${image.width}x${image.height}`,
    cost_usd: image.costUsd,
    created_at: image.createdAt,
  };
}

function keyBody(key: ApiKeySummary) {
  return {
    prefix: key.prefix,
    uid: key.userId,
    label: key.label,
    admin: key.admin,
    created_at: key.createdAt,
    revoked_at: key.revokedAt,
  };
}
