import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import sharp from 'sharp';
import type { Config } from './config/load-config.ts';
import { ApiKeys } from './core/accounts/api-keys.ts';
import type { FirebaseTokenVerifier } from './core/accounts/firebase-token-verifier.ts';
import { LinkCodes } from './core/accounts/link-codes.ts';
import { UserAccounts } from './core/accounts/user-accounts.ts';
import { createAdminServices } from './core/admin/admin-services.ts';
import { GenerationFailures } from './core/admin/generation-failures.ts';
import { BackgroundWork } from './core/background/background-work.ts';
import { housekeepingDuties } from './core/background/housekeeping-duties.ts';
import { ChatAdmin } from './core/chat/chat-admin.ts';
import { ChatCooldowns } from './core/chat/chat-cooldowns.ts';
import { ChatImages } from './core/chat/chat-images.ts';
import { PersonalSettingsStore } from './core/chat/personal-settings.ts';
import { ProcessedEvents } from './core/chat/processed-events.ts';
import { openStoreEngine } from './core/database/store-engines.ts';
import { isStorageFailure } from './core/errors/storage-unavailable.ts';
import { GenerationJobs } from './core/generation/generation-jobs.ts';
import { GenerationRecords } from './core/generation/generation-records.ts';
import { ImageGenerator } from './core/generation/image-generator.ts';
import type { Services } from './core/imagine-services.ts';
import { IdempotencyKeys } from './core/jobs/idempotency-keys.ts';
import { JobRunner } from './core/jobs/job-runner.ts';
import { chainModerators } from './core/prompt/moderation-chain.ts';
import { createBlocklistModerator } from './core/prompt/prompt-moderation.ts';
import { createImageModels } from './core/providers/create-image-models.ts';
import type { ImageModel } from './core/providers/image-model.ts';
import { ImageModelRegistry } from './core/providers/image-model-registry.ts';
import { ReadinessChecker } from './core/providers/model-readiness.ts';
import { createOpenAIClient } from './core/providers/openai/openai-client.ts';
import { createOpenAIImageModerator } from './core/providers/openai/openai-image-moderator.ts';
import { createOpenAIModerator } from './core/providers/openai/openai-moderator.ts';
import { createOpenAIPromptEnhancer } from './core/providers/openai/openai-prompt-enhancer.ts';
import type { AbandonedHold } from './core/quota/quota-accounting.ts';
import { QuotaLedger } from './core/quota/quota-ledger.ts';
import { createRedisConnection } from './core/redis/redis-connection.ts';
import { DiskHealth, watchStorageWrites } from './core/storage/disk-health.ts';
import type { ImageStorage } from './core/storage/image-storage.ts';
import { createImageStorage } from './core/storage/storage-engines.ts';
import { removeUnrecordedImages } from './core/storage/unrecorded-images.ts';

export type { Services } from './core/imagine-services.ts';

/** Stand-ins a test or benchmark may pass instead of what the config would build. */
export interface ServiceOverrides {
  /** Stand-ins for the built models, by model id (each id must be in the catalog); counted as configured. */
  models?: readonly ImageModel[];
  storage?: ImageStorage;
  firebaseTokens?: FirebaseTokenVerifier;
  now?: () => Date;
  /** Bytes free under DATA_DIR, instead of asking the file system (a test's full disk). */
  freeBytesOf?: (directory: string) => number;
  /** A client to use for REDIS_URL instead of connecting to it (ioredis-mock where no Redis runs). */
  redisClient?: Redis;
}

/**
 * Builds the services from the config: the composition root shared by the server, CLI, tests and bench.
 * Firebase is imported only when configured, so the embedded default starts fast and small.
 */
// libvips keeps a cache of recent operations (up to 50 MB) for pipelines that repeat on the same input;
// every image here is new, so the cache only holds memory a long-running server should give back.
sharp.cache(false);

export async function createServices(
  config: Config,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<Services> {
  const now = overrides.now ?? (() => new Date());
  // Every store on the configured engine (DATABASE_URL's PostgreSQL, else the SQLite file); the classes
  // below hold the rules, the stores the rows.
  const engine = await openStoreEngine({
    config,
    logger,
    now,
    commits: {
      committed: () => disk.writeSucceeded('database'),
      failed: (error) => {
        if (isStorageFailure(error)) disk.writeFailed('database');
      },
    },
  });
  const { stores } = engine;
  const ledger = new QuotaLedger(stores.quota, now);
  const accounts = new UserAccounts(stores.accounts, config.plans, now);
  const records = new GenerationRecords(stores.generations);

  const firebase = config.firebase ? await import('./core/firebase/firebase-app.ts') : undefined;
  const firebaseApp =
    firebase && config.firebase
      ? firebase.createFirebaseApp({
          projectId: config.firebase.projectId,
          credentialsPath: config.firebase.credentialsPath,
          storageBucket: config.storage.kind === 'firebase' ? config.storage.bucket : undefined,
          emulators: config.firebase.emulators,
        })
      : undefined;
  let storage =
    overrides.storage ??
    (await createImageStorage(config.storage, {
      dataDir: config.dataDir,
      publicBaseUrl: config.server.publicBaseUrl,
      firebaseApp,
      firebaseStorageEmulatorHost: config.firebase?.emulators.storage,
    }));
  const disk = new DiskHealth({
    directory: config.dataDir,
    minFreeBytes: config.minFreeDiskBytes,
    ...(overrides.freeBytesOf ? { freeBytesOf: overrides.freeBytesOf } : {}),
  });
  storage = watchStorageWrites(storage, disk);
  let firebaseTokens = overrides.firebaseTokens;
  if (!firebaseTokens && firebaseApp && config.firebase) {
    const { createFirebaseTokenVerifier } = await import('./core/accounts/firebase-token-verifier.ts');
    firebaseTokens = createFirebaseTokenVerifier({
      app: firebaseApp,
      checkRevoked: config.firebase.checkRevoked,
    });
  }

  const models = new ImageModelRegistry(
    config.models,
    overrides.models
      ? overrides.models.map((model) => {
          const descriptor = config.models.find(model.modelId);
          if (!descriptor) throw new Error(`stand-in model ${model.modelId} is not in the catalog`);
          return { descriptor, model, configured: true, probe: undefined };
        })
      : createImageModels({
          catalog: config.models,
          registry: config.providerRegistry,
          providers: config.providers,
          logger,
        }),
  );
  const readiness = new ReadinessChecker(models, { logger });
  const openai = config.providers.openai.apiKey
    ? createOpenAIClient({ apiKey: config.providers.openai.apiKey, baseUrl: config.providers.openai.baseUrl })
    : undefined;
  const blocklist = createBlocklistModerator(config.generation.blockedTerms);
  const moderator =
    openai && config.providers.moderation.kind === 'openai'
      ? chainModerators(
          [
            { name: 'blocklist', moderator: blocklist, relaxable: true },
            {
              name: 'openai',
              moderator: createOpenAIModerator({
                client: openai,
                failureMode: config.providers.moderation.onError === 'allow' ? 'open' : 'closed',
                logger,
              }),
            },
          ],
          logger,
        )
      : chainModerators([{ name: 'blocklist', moderator: blocklist, relaxable: true }], logger);
  const promptEnhancer =
    openai && config.providers.promptEnhancer === 'openai'
      ? createOpenAIPromptEnhancer({ client: openai, logger })
      : undefined;
  // Removals of what a crash stored unrecorded run in the background; close() lets them finish first.
  const pendingRemovals = new Set<Promise<void>>();
  const removeAbandonedImages = (holds: AbandonedHold[]) => {
    const removal = removeUnrecordedImages(storage, holds, logger).finally(() =>
      pendingRemovals.delete(removal),
    );
    pendingRemovals.add(removal);
  };
  const jobs = new JobRunner({
    store: stores.jobs,
    ledger,
    logger,
    now,
    maxRunningPerUser: config.generation.maxJobsPerUser,
    onAbandonedHolds: removeAbandonedImages,
  });
  const generator = new ImageGenerator({
    writes: engine.generationWrites,
    records,
    storage,
    models,
    moderator,
    ...(promptEnhancer ? { promptEnhancer } : {}),
    outputModerator:
      openai && config.providers.outputModeration
        ? createOpenAIImageModerator({
            client: openai,
            failureMode: config.providers.moderation.onError === 'allow' ? 'open' : 'closed',
            logger,
          })
        : undefined,
    defaultModel: config.generation.defaultModel,
    maxBatchSize: config.generation.maxBatchSize,
    fallbackModels: config.generation.fallbackModels,
    taskDefaultModels: {
      image_to_image: config.generation.imageToImageModel,
      upscale: config.generation.upscaleModel,
    },
    inputImages: config.generation.inputImages,
    embedParameters: config.generation.embedParameters,
    monthlyBudgetUsd: config.monthlyBudgetUsd,
    disk,
    failures: new GenerationFailures(stores.generationFailures, now),
    logger,
    now,
  });

  const linkCodes = new LinkCodes(stores.linkCodes, accounts, now);
  const processedEvents = new ProcessedEvents(stores.processedEvents, now);
  const idempotencyKeys = new IdempotencyKeys(stores.idempotencyKeys, now);
  const generationJobs = new GenerationJobs({
    generator,
    jobs,
    jobStore: stores.jobs,
    idempotencyKeys,
    accounts,
    disk,
    now,
  });
  const background = new BackgroundWork(logger);
  for (const duty of housekeepingDuties({
    jobs,
    ledger,
    processedEvents,
    idempotencyKeys,
    logger,
    now,
    onAbandonedHolds: removeAbandonedImages,
  }))
    background.add(duty);

  const apiKeys = new ApiKeys(stores.apiKeys, accounts, now);
  const redis = config.redis
    ? createRedisConnection({
        settings: config.redis,
        logger,
        ...(overrides.redisClient ? { client: overrides.redisClient } : {}),
      })
    : undefined;
  let closed = false;
  return {
    config,
    logger,
    database: engine.sqlite,
    stores,
    ledger,
    accounts,
    apiKeys,
    admin: createAdminServices({
      stores,
      accounts,
      apiKeys,
      storage,
      models,
      plans: config.plans,
      defaultModel: config.generation.defaultModel,
      budgetUsd: config.monthlyBudgetUsd,
      sessionHours: config.consoleSessionHours,
      now,
    }),
    linkCodes,
    records,
    storage,
    models,
    readiness,
    generator,
    chatImages: new ChatImages({
      generator,
      accounts,
      linkCodes,
      records,
      ledger,
      storage,
      generationJobs,
      settings: new PersonalSettingsStore(stores.personalSettings, now),
      admin: new ChatAdmin(stores.chatAdmin, accounts, now),
      now,
    }),
    chatCooldowns: new ChatCooldowns(stores.chatCooldowns, now),
    processedEvents,
    background,
    jobs,
    generationJobs,
    jobStore: stores.jobs,
    idempotencyKeys,
    firebaseTokens,
    disk,
    async probeDatabase() {
      const readAndWritten = await stores.health.probe();
      // Damage found by an integrity check outranks a probe that happened to miss the damaged pages.
      if (stores.health.damaged?.()) return 'damaged';
      return readAndWritten ? 'ok' : 'error';
    },
    redis,
    async close() {
      if (closed) return;
      closed = true;
      await background.stop();
      // Jobs still running get a moment to record how they ended; whatever is queued is committed.
      await jobs.drain(2_000);
      await Promise.allSettled(pendingRemovals);
      storage.close?.();
      if (firebase && firebaseApp) await firebase.deleteFirebaseApp(firebaseApp);
      await redis?.close();
      await engine.close();
    },
  };
}
