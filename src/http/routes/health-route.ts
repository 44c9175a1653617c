import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DatabaseProbe } from '../../core/database/database-probe.ts';
import type { ImageModelRegistry } from '../../core/providers/image-model-registry.ts';
import type { ReadinessChecker } from '../../core/providers/model-readiness.ts';
import type { RedisConnection } from '../../core/redis/redis-connection.ts';
import type { DiskHealth } from '../../core/storage/disk-health.ts';
import type { ImageStorage } from '../../core/storage/image-storage.ts';
import { documented } from '../schemas/documented-response.ts';

const megabyte = 1024 * 1024;

const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  database: z
    .enum(['ok', 'error', 'damaged'])
    .describe(
      'error: the database cannot be read or written right now; damaged: PRAGMA quick_check found the SQLite file damaged (until a restart; the log says how to recover)',
    ),
  storage: z.enum(['ok', 'error']),
  redis: z
    .enum(['ok', 'unreachable'])
    .optional()
    .describe(
      'Only with REDIS_URL. unreachable does not fail the check: rate limits go uncounted (requests go ahead) until it is back',
    ),
  disk: z
    .object({
      status: z.enum(['ok', 'low', 'failing']),
      free_mb: z.number().describe('Free space under DATA_DIR'),
      min_free_mb: z.number().describe('MIN_FREE_DISK_MB: below it new generations are refused'),
    })
    .describe('low: under MIN_FREE_DISK_MB free; failing: a write to the disk failed in the last 30 s'),
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
z.globalRegistry.add(healthSchema, {
  id: 'Health',
  description: 'Whether the database, storage and default model are ready',
});

/**
 * `GET /health`: liveness with database, storage, disk and provider readiness. 503 when the database or
 * storage is down, free space is low or a write failed, or when neither the default model nor any fallback
 * can serve; a down backend of some other model (a GPU box switched off for the night) is reported in
 * `readiness` but does not fail the check, since a load balancer taking the whole service out for it would
 * only make things worse. Nor does an unreachable Redis (REDIS_URL), for which rate limits fail open.
 */
export const healthRoute: FastifyPluginAsyncZod<{
  probeDatabase: DatabaseProbe;
  disk: DiskHealth;
  storage: ImageStorage;
  /** REDIS_URL's connection, reported but never failing the check: rate limits fail open without it. */
  redis: RedisConnection | undefined;
  models: ImageModelRegistry;
  readiness: ReadinessChecker;
  defaultModel: string;
  fallbackModels: readonly string[];
}> = async (
  app,
  { probeDatabase, disk, storage, redis, models, readiness, defaultModel, fallbackModels },
) => {
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
      const [databaseStatus, storageReady, report, redisStatus] = await Promise.all([
        probeDatabase(),
        storage.checkReady(),
        readiness.check(),
        redis?.probe(),
      ]);
      const space = disk.report();
      const database =
        databaseStatus === 'ok' && space.failing.includes('database') ? 'error' : databaseStatus;
      const databaseHealthy = database === 'ok';
      const storageOk = storageReady && !space.failing.includes('storage');
      const diskStatus = space.lowSpace ? 'low' : space.failing.length > 0 ? 'failing' : 'ok';
      const configured = report.filter((model) => model.configured);
      const route = new Set([defaultModel, ...fallbackModels]);
      const providerReady = configured.some((model) => route.has(model.id) && model.ready);
      const healthy = databaseHealthy && storageOk && diskStatus === 'ok' && providerReady;
      return reply.code(healthy ? 200 : 503).send({
        status: healthy ? 'ok' : 'degraded',
        database,
        storage: storageOk ? 'ok' : 'error',
        ...(redisStatus ? { redis: redisStatus } : {}),
        disk: {
          status: diskStatus,
          free_mb: Math.floor(space.freeBytes / megabyte),
          min_free_mb: space.minFreeBytes / megabyte,
        },
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
