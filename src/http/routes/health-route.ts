import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SqliteDatabase } from '../../core/database/open-database.ts';
import type { ImageModelRegistry } from '../../core/providers/image-model-registry.ts';
import type { ImageStorage } from '../../core/storage/image-storage.ts';
import { documented } from '../schemas/documented-response.ts';

const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  database: z.enum(['ok', 'error']),
  storage: z.enum(['ok', 'error']),
  provider: z.object({
    default_model: z.string(),
    ready: z.boolean().describe('Whether the default model can be called on this instance'),
    models: z.array(z.string()).describe('Models this instance can call'),
  }),
});
z.globalRegistry.add(healthSchema, {
  id: 'Health',
  description: 'Whether the database, storage and default model are ready',
});

/** `GET /health`: liveness with database, storage and provider readiness; 503 when something is down. */
export const healthRoute: FastifyPluginAsyncZod<{
  database: SqliteDatabase;
  storage: ImageStorage;
  models: ImageModelRegistry;
  defaultModel: string;
}> = async (app, { database, storage, models, defaultModel }) => {
  app.get(
    '/health',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness and readiness',
        tags: ['service'],
        security: [],
        response: {
          200: documented(healthSchema, 'Everything is ready'),
          503: documented(healthSchema, 'Something is down: the body says what'),
        },
      },
    },
    async (_request, reply) => {
      const databaseOk = (() => {
        try {
          return database.open && database.prepare('SELECT 1 AS ok').get() !== undefined;
        } catch {
          return false;
        }
      })();
      const storageOk = await storage.checkReady();
      const providerReady = models.isConfigured(defaultModel);
      const healthy = databaseOk && storageOk && providerReady;
      return reply.code(healthy ? 200 : 503).send({
        status: healthy ? 'ok' : 'degraded',
        database: databaseOk ? 'ok' : 'error',
        storage: storageOk ? 'ok' : 'error',
        provider: { default_model: defaultModel, ready: providerReady, models: models.configuredIds() },
      });
    },
  );
};
