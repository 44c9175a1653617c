import { randomUUID } from 'node:crypto';
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ChatBot } from '../bots/chat-bot.ts';
import type { Caller } from '../core/accounts/user-accounts.ts';
import { ImagineError } from '../core/errors/imagine-error.ts';
import type { Services } from '../core/imagine-services.ts';
import { localImagesFolder } from '../core/storage/local-image-storage.ts';
import { createAuthenticator } from './auth/authenticate.ts';
import { consoleRoutes } from './console/console-routes.ts';
import { corsOptions } from './cors.ts';
import { answerFrameworkError, installErrorHandling } from './error-handler.ts';
import { createRestGenerations } from './generation-jobs.ts';
import { packageVersion } from './package-version.ts';
import { answerClientError, installProtocolChecks } from './protocol-refusals.ts';
import { rateLimitByBudget } from './rate-limit-budgets.ts';
import { accountRoutes } from './routes/account-routes.ts';
import { adminRoutes } from './routes/admin/admin-routes.ts';
import { catalogRoutes } from './routes/catalog-routes.ts';
import { generateRoutes } from './routes/generate-routes.ts';
import { healthRoute } from './routes/health-route.ts';
import { imageFilesRoute } from './routes/image-files-route.ts';
import { imageRoutes } from './routes/image-routes.ts';
import { jobRoutes } from './routes/job-routes.ts';
import { openapiTransform, openapiTransformObject } from './schemas/openapi-transform.ts';
import { sharedRateLimitStore } from './shared-rate-limit-store.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set on every /api/v1 route before the handler runs. */
    caller: Caller;
  }
}

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** The OpenAPI document's version is the package's. */
const serviceVersion = packageVersion();

/**
 * The HTTP API as a Fastify instance, not yet listening: `server.ts` listens, tests call `inject()`.
 * Routes declare zod schemas, which both validate and generate `/openapi.json`.
 */
export async function buildApp(
  services: Services,
  options: { chatBots?: readonly ChatBot[] } = {},
): Promise<FastifyInstance> {
  const { config } = services;
  // LOG_LEVEL=silent means no logging at all: no request lines, and no per-request child logger binding a
  // request id nobody will read (together a few microseconds of every request).
  const silent = services.logger.level === 'silent';
  const app = Fastify({
    // pino's Logger and Fastify's logger type differ only in generics; the instance is the same.
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: config.server.bodyLimitBytes,
    // genReqId reads x-request-id itself, so an unsafe one is replaced rather than echoed.
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: silent }),
    ...(silent ? { childLoggerFactory: (logger: FastifyBaseLogger) => logger } : {}),
    // A caller's own id is kept when it is harmless, so their logs and ours line up.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    },
    // Refusals by the router and by Node's parser, in the contract's shape like every other error.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    http: { requireHostHeader: false },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    trustProxy: config.server.trustProxy,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // Replies are checked against their zod schemas in development and tests, where a drift from the
  // contract must fail loudly. In production the same objects are written with JSON.stringify: the
  // schemas have no transforms, so the bytes are identical, and re-validating every reply costs a
  // tenth of a request's time.
  app.setSerializerCompiler(
    config.environment === 'production' ? () => (data: unknown) => JSON.stringify(data) : serializerCompiler,
  );
  installErrorHandling(app, {
    onStorageFailure: (error) =>
      services.disk.writeFailed(
        String((error as { code?: unknown }).code).startsWith('SQLITE') ? 'database' : 'storage',
      ),
  });
  // Bodies are JSON (docs/api.md): text/plain gets the same 400 `invalid_json` as any other media type,
  // rather than reaching validation as a string.
  app.removeContentTypeParser('text/plain');
  // Before every route, so preflights are answered ahead of authentication. Unset: no CORS headers at all.
  if (config.server.corsOrigins.length > 0)
    await app.register(fastifyCors, corsOptions(config.server.corsOrigins));
  // Set as the request starts, so every reply carries it, errors and 404s included.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  installProtocolChecks(app);

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'imagine',
        description:
          'Self-hosted image generation. Authenticate with `Authorization: Bearer <Firebase ID token | imk_… API key>`.',
        version: serviceVersion,
      },
      // Relative, so "Try it out" calls whichever address the page was loaded from (localhost, 127.0.0.1,
      // a proxy's host); the path of PUBLIC_BASE_URL covers a proxy that serves us under a prefix.
      servers: [{ url: new URL(config.server.publicBaseUrl).pathname }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Firebase ID token or imk_ API key' },
        },
      },
    },
    transform: openapiTransform,
    transformObject: openapiTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Who a limit counts: the user (never their API key, so no key reaches Redis), or the address before sign-in.
  const callerKey = (request: FastifyRequest) => request.caller?.userId ?? request.ip;
  await app.register(fastifyRateLimit, {
    global: false,
    // REDIS_URL: every process counts in one Redis, and a check Redis cannot answer lets the request through
    // (logged) rather than failing it. Unset: each process counts in its own memory.
    ...(services.redis ? { store: sharedRateLimitStore(services.redis), skipOnError: true } : {}),
    // A refusal carries Retry-After and the x-ratelimit-* figures; a success carries none of them. Three
    // headers on every reply cost the server and every client a measurable share of a request, for a
    // per-minute limit few callers come near (the quota that matters is in each reply's `usage`).
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    max: config.server.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: callerKey,
    errorResponseBuilder: (_request, context) =>
      new ImagineError('rate_limited', `Too many requests: at most ${context.max} a minute`, {
        retry_after: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  });

  await app.register(healthRoute, {
    probeDatabase: services.probeDatabase,
    disk: services.disk,
    storage: services.storage,
    redis: services.redis,
    models: services.models,
    readiness: services.readiness,
    defaultModel: config.generation.defaultModel,
    fallbackModels: config.generation.fallbackModels,
  });

  if (services.storage.kind === 'local') {
    await app.register(imageFilesRoute({ root: localImagesFolder(config.dataDir) }));
  }

  // Chat platforms authenticate with their own signatures, checked inside their routes before anything else.
  for (const bot of options.chatBots ?? []) if (bot.routes) await app.register(bot.routes);

  const authenticate = createAuthenticator(services);
  await app.register(async (api) => {
    api.decorateRequest('caller');
    // onRequest: the token is checked before the body is even parsed, so strangers cost us nothing. A
    // callback hook, not an async one: it takes an authenticator's answer as it comes (a caller or a
    // promise of one) without wrapping it in a promise of its own.
    api.addHook('onRequest', (request, _reply, done) => {
      let caller: Caller | Promise<Caller>;
      try {
        caller = authenticate(request);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (caller instanceof Promise) {
        caller.then((verified) => {
          request.caller = verified;
          done();
        }, done);
      } else {
        request.caller = caller;
        done();
      }
    });
    // After authentication, so the limit is per user rather than per address behind a shared NAT.
    api.addHook(
      'onRequest',
      rateLimitByBudget(
        app,
        { generation: config.server.rateLimitPerMinute, read: config.server.readRateLimitPerMinute },
        callerKey,
      ),
    );
    const generation = createRestGenerations(services.generationJobs);
    // The image once base64-encoded (4 bytes for every 3), plus the usual limit for the rest of the JSON.
    const imageBodyLimit =
      Math.ceil(config.generation.inputImages.maxBytes / 3) * 4 + config.server.bodyLimitBytes;
    await api.register(generateRoutes, { generation, imageBodyLimit });
    await api.register(imageRoutes, { generation });
    await api.register(jobRoutes, { jobs: services.jobs, jobStore: services.jobStore });
    await api.register(accountRoutes, {
      ledger: services.ledger,
      accounts: services.accounts,
      linkCodes: services.linkCodes,
      now: () => new Date(),
    });
    await api.register(catalogRoutes, {
      records: services.records,
      models: services.models,
      defaultModel: config.generation.defaultModel,
    });
  });

  // The operator console and its admin API check admin keys and console sessions, not app callers.
  await app.register(adminRoutes(services));
  await app.register(consoleRoutes(services));

  // Background work starts once every route is registered: recovery hands polled jobs to the generate
  // routes' re-run handler and chat jobs to their bots, so it must not run before those exist.
  app.addHook('onReady', () => services.background.start());
  // Before the first request, so it is counted; an unreachable Redis is logged and does not stop the start.
  app.addHook('onReady', async () => services.redis?.connect());

  return app;
}
