import type { Logger } from 'pino';
import type { Config } from '../config/load-config.ts';
import type { ApiKeys } from './accounts/api-keys.ts';
import type { FirebaseTokenVerifier } from './accounts/firebase-token-verifier.ts';
import type { LinkCodes } from './accounts/link-codes.ts';
import type { UserAccounts } from './accounts/user-accounts.ts';
import type { AdminServices } from './admin/admin-services.ts';
import type { BackgroundWork } from './background/background-work.ts';
import type { ChatCooldowns } from './chat/chat-cooldowns.ts';
import type { ChatImages } from './chat/chat-images.ts';
import type { ProcessedEvents } from './chat/processed-events.ts';
import type { DatabaseProbe } from './database/database-probe.ts';
import type { SqliteDatabase } from './database/open-database.ts';
import type { Stores } from './database/stores.ts';
import type { GenerationJobs } from './generation/generation-jobs.ts';
import type { GenerationRecords } from './generation/generation-records.ts';
import type { ImageGenerator } from './generation/image-generator.ts';
import type { IdempotencyKeys } from './jobs/idempotency-keys.ts';
import type { JobRunner } from './jobs/job-runner.ts';
import type { JobStore } from './jobs/job-store.ts';
import type { ImageModelRegistry } from './providers/image-model-registry.ts';
import type { ReadinessChecker } from './providers/model-readiness.ts';
import type { QuotaLedger } from './quota/quota-ledger.ts';
import type { RedisConnection } from './redis/redis-connection.ts';
import type { DiskHealth } from './storage/disk-health.ts';
import type { ImageStorage } from './storage/image-storage.ts';

// The shape the front doors (HTTP, Discord, Slack, CLI) are given; `src/services.ts` builds it. It lives in
// core so that the transports depend on core, not on the composition root that wires them.
/** Everything the front doors share: one database, one ledger, one generator. */
export interface Services {
  config: Config;
  logger: Logger;
  /** The SQLite file's handle, when the stores are on SQLite (the CLI and tests read it); else undefined. */
  database: SqliteDatabase | undefined;
  /** Every store, on the configured engine. */
  stores: Stores;
  ledger: QuotaLedger;
  accounts: UserAccounts;
  apiKeys: ApiKeys;
  linkCodes: LinkCodes;
  records: GenerationRecords;
  storage: ImageStorage;
  models: ImageModelRegistry;
  /** Each model's backend readiness (its provider's probe), for /health. */
  readiness: ReadinessChecker;
  generator: ImageGenerator;
  /** What Discord and Slack do with images, shared so the two bots cannot drift apart. */
  chatImages: ChatImages;
  /** When each chat identity last started a generation (CHAT_COOLDOWN_SECONDS). */
  chatCooldowns: ChatCooldowns;
  /** Generations as durable jobs: per-user lines, queue positions, recovery after a crash. */
  jobs: JobRunner;
  /** Generations as jobs for every front door: submitted, replayed for a repeated key, recovered. */
  generationJobs: GenerationJobs;
  jobStore: JobStore;
  idempotencyKeys: IdempotencyKeys;
  /** Once-only handling of chat deliveries (retries, double clicks). */
  processedEvents: ProcessedEvents;
  /**
   * Heartbeats, job recovery, abandoned holds and pruning, on one scheduler. Started by the HTTP app once
   * it is ready (recovery needs the routes' and bots' handlers registered); stopped by `close`.
   */
  background: BackgroundWork;
  /** The operator console's queries, actions, audit trail and sign-in sessions. */
  admin: AdminServices;
  /** Present when Firebase is configured: the app's ID tokens are accepted. */
  firebaseTokens: FirebaseTokenVerifier | undefined;
  /** Free space under DATA_DIR and the writes that failed lately, for refusing work and for /health. */
  disk: DiskHealth;
  /** A real read and write of the database, and whether a check found its file damaged, for /health. */
  probeDatabase: DatabaseProbe;
  /** REDIS_URL's connection, where every process counts rate limits; undefined: each counts its own. */
  redis: RedisConnection | undefined;
  /** Closes the database and releases clients; call once, after the last request is done. */
  close(): Promise<void>;
}
