import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SqliteDatabase } from '../../core/database/open-database.ts';
import type { ImageModelRegistry } from '../../core/providers/image-model-registry.ts';
import type { ReadinessChecker } from '../../core/providers/model-readiness.ts';
import type { ImageStorage } from '../../core/storage/image-storage.ts';

const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  database: z.enum(['ok', 'error']),
  storage: z.enum(['ok', 'error']),
  provider: z.object({
    default_model: z.string(),
    ready: z
      .boolean()
      .describe('Whether the default model, or one of its fallbacks, can serve a request right now'),
    models: z.array(z.string()).describe('Models this instance can call (their provider is configured)'),
    readiness: z
      .array(
        z.object({
          id: z.string(),
          provider: z.string(),
          ready: z.boolean().describe("Whether the model's backend answered its readiness probe"),
          problem: z
            .string()
            .optional()
            .describe('Why not: network, timeout, unavailable, credentials… (details are in the log)'),
        }),
      )
      .describe('Each configured model, probed with a short timeout; answers are cached for a few seconds'),
  }),
});

/**
 * `GET /health`: liveness with database, storage and provider readiness. 503 when the database or storage
 * is down, or when neither the default model nor any fallback can serve; a down backend of some other
 * model (a GPU box switched off for the night) is reported in `readiness` but does not fail the check,
 * since a load balancer taking the whole service out for it would only make things worse.
 */
export const healthRoute: FastifyPluginAsyncZod<{
  database: SqliteDatabase;
  storage: ImageStorage;
  models: ImageModelRegistry;
  readiness: ReadinessChecker;
  defaultModel: string;
  fallbackModels: readonly string[];
}> = async (app, { database, storage, models, readiness, defaultModel, fallbackModels }) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness and readiness',
        tags: ['service'],
        response: { 200: healthSchema, 503: healthSchema },
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
      const [storageOk, report] = await Promise.all([storage.checkReady(), readiness.check()]);
      const configured = report.filter((model) => model.configured);
      const route = new Set([defaultModel, ...fallbackModels]);
      const providerReady = configured.some((model) => route.has(model.id) && model.ready);
      const healthy = databaseOk && storageOk && providerReady;
      return reply.code(healthy ? 200 : 503).send({
        status: healthy ? 'ok' : 'degraded',
        database: databaseOk ? 'ok' : 'error',
        storage: storageOk ? 'ok' : 'error',
        provider: {
          default_model: defaultModel,
          ready: providerReady,
          models: models.configuredIds(),
          readiness: configured.map((model) => ({
            id: model.id,
            provider: model.provider,
            ready: model.ready,
            ...(model.problem === undefined ? {} : { problem: model.problem }),
          })),
        },
      });
    },
  );
};
