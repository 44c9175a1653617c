import fs from 'node:fs';
import path from 'node:path';
import { ModelCatalog } from '../core/providers/model-catalog.ts';
import type { ProviderDescriptor } from '../core/providers/provider-descriptor.ts';
import { ProviderRegistry } from '../core/providers/provider-registry.ts';
import { buildPlanCatalog, type PlanCatalog } from '../core/quota/plans.ts';
import { type Environment, environmentSchema } from './environment-schema.ts';
import { readModelsFile } from './models-file.ts';

/** Where images are kept. */
export type StorageSettings =
  | { kind: 'local' }
  | { kind: 'firebase'; bucket: string; makePublic: boolean }
  | S3StorageSettings;

/** STORAGE=s3: an S3-compatible bucket. Credentials are not here: the AWS SDK's standard chain finds them. */
export interface S3StorageSettings {
  kind: 's3';
  bucket: string;
  region: string;
  /** The service's URL for anything but AWS S3 (R2, MinIO). */
  endpoint: string | undefined;
  /** Path-style URLs (`endpoint/bucket/key`): on by default with an endpoint, as MinIO needs. */
  forcePathStyle: boolean;
  /** Where images are served from: an image's URL is this, `/`, and its key. */
  publicBaseUrl: string;
}

/** Credentials and limits for the real image providers. Secrets live here and nowhere else. */
export interface ProviderSettings {
  replicate: { apiToken: string | undefined; concurrency: number };
  openai: { apiKey: string | undefined; baseUrl: string | undefined; concurrency: number };
  /** One provider call, every retry included. */
  deadlineMs: number;
  downloadMaxBytes: number;
  placeholderDelayMs: number;
  /**
   * Reads the variable a model entry names (`api_key_env`, `username_env`): a function, not a copy of the
   * environment, so logging the config can never print the secrets behind it.
   */
  variable(name: string): string | undefined;
  /** OpenAI moderation before generation; `onError` decides when the moderation call itself fails. */
  moderation: { kind: 'off' | 'openai'; onError: 'allow' | 'refuse' };
  /** OUTPUT_MODERATION=on: each generated image passes OpenAI moderation before it is stored or posted. */
  outputModeration: boolean;
  promptEnhancer: 'rules' | 'openai';
}

/** The Discord bot, present when DISCORD_BOT_TOKEN is set. */
export interface DiscordSettings {
  mode: 'gateway' | 'http';
  botToken: string;
  applicationId: string;
  /** Ed25519 public key (hex) for HTTP interactions. */
  publicKey: string | undefined;
  /** Register commands to this server only (instant updates while developing). */
  guildId: string | undefined;
  /** Role names or ids allowed to generate; empty means everyone. */
  allowedRoles: readonly string[];
  /** Images a server may make per month on top of each user's quota. */
  serverMonthlyImages: number | undefined;
  /**
   * Where every REST call goes, before `/v10/…`: Discord's own API, or a REST proxy that shares rate limits
   * between processes (nirn-proxy, twilight-http-proxy), e.g. `http://proxy:8080/api`.
   */
  apiBaseUrl: string;
  /** Role ids whose members count as admins (besides Manage Server): exempt from cooldowns. */
  adminRoles: readonly string[];
  /** Channel ids where images are made; empty means everywhere. */
  allowedChannels: readonly string[];
  /** Role id → plan: members holding the role get that plan in the server when it is better. */
  rolePlans: Readonly<Record<string, string>>;
}

/** The Slack app, present when SLACK_BOT_TOKEN is set. */
export interface SlackSettings {
  mode: 'socket' | 'http';
  botToken: string;
  signingSecret: string;
  /** App-level token for Socket Mode. */
  appToken: string | undefined;
  /** Images a workspace may make per month on top of each user's quota. */
  workspaceMonthlyImages: number | undefined;
  /** User ids that count as admins: exempt from cooldowns. */
  adminUsers: readonly string[];
  /** Channel ids where images are made; empty means everywhere. */
  allowedChannels: readonly string[];
  /** User group id → plan: members get that plan in the workspace when it is better. */
  usergroupPlans: Readonly<Record<string, string>>;
  /** The Web API base every method call goes to (ends in `/`): Slack's, or another host such as GovSlack's. */
  apiUrl: string;
}

/** Firebase, present when FIREBASE_PROJECT_ID is set: ID-token auth, and the bucket when STORAGE=firebase. */
export interface FirebaseSettings {
  projectId: string;
  credentialsPath: string | undefined;
  checkRevoked: boolean;
  /** `host:port` of the Firebase Local Emulator Suite's emulators, when development runs against them. */
  emulators: { auth: string | undefined; storage: string | undefined };
}

/** Where shared rate-limit counters live. The URL may hold a password: it is never logged. */
export interface RedisSettings {
  url: string;
  /** Put before every key, so several deployments (or tests) can share one Redis. */
  keyPrefix: string;
}

/** Where every store lives when not in the SQLite file. The URL may hold a password: it is never logged. */
export interface PostgresSettings {
  url: string;
  /** Connections each process keeps open (DATABASE_POOL_SIZE). */
  poolSize: number;
}

/** The service's settings, derived once from the environment. */
export interface Config {
  environment: Environment['NODE_ENV'];
  server: {
    host: string;
    port: number;
    /** The base of every URL we hand out (image links); defaults to http://localhost:PORT. */
    publicBaseUrl: string;
    bodyLimitBytes: number;
    /** Generation requests per user per minute. */
    rateLimitPerMinute: number;
    /** Every other /api/v1 request (job polls, usage, history) per user per minute: a budget of its own. */
    readRateLimitPerMinute: number;
    shutdownGraceMs: number;
    /** Trust X-Forwarded-* from a reverse proxy (for client addresses in logs and rate limits). */
    trustProxy: boolean;
    /** Origins whose web pages may call the API (`*` for any); empty: no CORS headers. */
    corsOrigins: readonly string[];
  };
  /** REDIS_URL: the Redis every process counts rate limits in; unset, each process counts its own. */
  redis: RedisSettings | undefined;
  dataDir: string;
  /** The embedded SQLite file under `dataDir`, used when `postgres` is unset. */
  databasePath: string;
  /** DATABASE_URL: every store on this PostgreSQL database instead of the SQLite file (several hosts share it). */
  postgres: PostgresSettings | undefined;
  /** Below this many free bytes under `dataDir`, new work is refused and /health says 503. */
  minFreeDiskBytes: number;
  logging: { level: Environment['LOG_LEVEL']; pretty: boolean };
  generation: {
    defaultModel: string;
    /** Tried in order when the chosen model's provider is unavailable. */
    fallbackModels: readonly string[];
    /** Jobs one user may have running at once; more wait in order. */
    maxJobsPerUser: number;
    placeholderDelayMs: number;
    blockedTerms: readonly string[];
    maxBatchSize: number;
    /** The model for image-to-image and variations when a request names none (IMAGE_TO_IMAGE_MODEL). */
    imageToImageModel: string | undefined;
    /** The model for upscales when a request names none (UPSCALE_MODEL). */
    upscaleModel: string | undefined;
    /** What an input image may be: its size cap and the https hosts it may be fetched from. */
    inputImages: { maxBytes: number; allowedHosts: readonly string[] };
    /** Whether stored images carry their generation parameters (PNG `parameters` chunk, EXIF). */
    embedParameters: boolean;
  };
  providers: ProviderSettings;
  /** The providers models are built with (built-in ones, plus any a test registers). */
  providerRegistry: ProviderRegistry;
  /** Every model by name: the providers' built-in ones, with MODELS_FILE's added or overriding by id. */
  models: ModelCatalog;
  plans: PlanCatalog;
  monthlyBudgetUsd: number | undefined;
  /** How long an operator console sign-in lasts before the admin key must be given again. */
  consoleSessionHours: number;
  storage: StorageSettings;
  discord: DiscordSettings | undefined;
  slack: SlackSettings | undefined;
  /** Community controls both bots share. */
  chat: {
    /** Seconds between a person's generations in chat (per platform identity); 0: none. */
    cooldownSeconds: number;
    /** `block`: the blocklist everywhere; `nsfw-channels`: relaxed in Discord channels marked NSFW; `allow`. */
    nsfwPolicy: 'block' | 'nsfw-channels' | 'allow';
  };
  firebase: FirebaseSettings | undefined;
  /** Create a ready-to-use API key on first start, so the quick start works with no setup. */
  createDemoKey: boolean;
}

/** A start-up stopper: names each bad variable and what it expects. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment (process.env in production, a plain object in tests) into a Config, reading
 * MODELS_FILE if it names one. `providers` registers descriptors beyond the built-in ones (a test's own).
 */
export function loadConfig(
  variables: Readonly<Record<string, string | undefined>>,
  options: { providers?: readonly ProviderDescriptor[] } = {},
): Config {
  // Empty strings mean "unset": that is how .env files and shells usually express it.
  const present = Object.fromEntries(Object.entries(variables).filter(([, value]) => value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = issue.path.join('.') || '(environment)';
        const received = present[variable];
        const shown =
          received === undefined
            ? 'is missing'
            : `is "${isSecretName(variable) ? '***' : withoutUrlPassword(received)}"`;
        return `${variable} ${shown}: ${issue.message}`;
      }),
    );
  }
  return deriveConfig(parsed.data, new ProviderRegistry(options.providers), (name) => present[name]);
}

function isSecretName(variable: string): boolean {
  return /TOKEN|KEY|SECRET|PASSWORD|CREDENTIAL/i.test(variable);
}

/** `redis://:pw@host` → `redis://***@host`: a connection URL's password must not reach an error message. */
function withoutUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}

/**
 * Why `folder` cannot be DATA_DIR, or undefined when it is a folder or can be made one (a missing folder
 * is created at start). Checked here, so a typo names the variable instead of failing in a mkdir.
 */
function notAFolder(folder: string): string | undefined {
  try {
    if (fs.statSync(folder).isDirectory()) return undefined;
    return 'that is a file, not a folder; set DATA_DIR to a folder (imagine creates it if it does not exist)';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') {
      return 'part of that path is a file, not a folder; set DATA_DIR to a folder (imagine creates it if it does not exist)';
    }
    // Missing: created at start. Anything else (no permission to look) is reported when it is opened.
    return undefined;
  }
}

/**
 * Why `DATA_DIR/images` cannot hold local storage's images, or undefined when it is a folder or can be
 * made one: a file (or a link to nothing) there would fail the mkdir at start with a stack instead.
 */
function notAnImagesFolder(folder: string): string | undefined {
  try {
    if (fs.statSync(folder).isDirectory()) return undefined;
  } catch {
    // Missing: created at start, unless a link to nothing stands in the way (lstat sees the link itself).
    if (!fs.lstatSync(folder, { throwIfNoEntry: false })) return undefined;
  }
  return (
    `DATA_DIR holds a file "${folder}" where STORAGE=local keeps its images folder; move that file out of ` +
    'DATA_DIR (imagine then creates the folder) or set DATA_DIR to another folder'
  );
}

function deriveConfig(
  environment: Environment,
  providerRegistry: ProviderRegistry,
  variable: (name: string) => string | undefined,
): Config {
  const problems: string[] = [];
  const dataDir = path.resolve(environment.DATA_DIR);
  const dataDirProblem = notAFolder(dataDir);
  if (dataDirProblem) problems.push(`DATA_DIR is "${environment.DATA_DIR}": ${dataDirProblem}`);

  let plans: PlanCatalog | undefined;
  try {
    plans = buildPlanCatalog({
      limits: environment.PLAN_LIMITS,
      models: environment.PLAN_MODELS,
      defaultPlan: environment.DEFAULT_PLAN,
      guestMonthlyImages: environment.GUEST_MONTHLY_IMAGES,
    });
  } catch (error) {
    problems.push((error as Error).message);
  }
  let models = providerRegistry.builtInModels();
  if (environment.MODELS_FILE) {
    const fromFile = readModelsFile(environment.MODELS_FILE, {
      registry: providerRegistry,
      builtIn: models,
      planNames: plans ? Object.keys(plans.plans) : [],
    });
    problems.push(...fromFile.problems);
    if (fromFile.problems.length === 0) models = fromFile.models;
  }
  const catalog = new ModelCatalog(models);
  const findModel = (id: string) => catalog.find(id);
  // With no IMAGE_MODEL, a Replicate token makes Flux Schnell the default; without any, the placeholder.
  const defaultModel = (
    environment.IMAGE_MODEL ?? (environment.REPLICATE_API_TOKEN ? 'flux-schnell' : 'placeholder')
  ).toLowerCase();
  if (!findModel(defaultModel)) {
    problems.push(`IMAGE_MODEL is "${environment.IMAGE_MODEL}": not a model this service knows`);
  }
  for (const [name, capability] of [
    ['IMAGE_TO_IMAGE_MODEL', 'image_to_image'],
    ['UPSCALE_MODEL', 'upscale'],
  ] as const) {
    const model = environment[name];
    if (model === undefined) continue;
    const found = findModel(model);
    if (!found) problems.push(`${name} is "${model}": not a model this service knows`);
    else if (!found.capabilities.includes(capability))
      problems.push(`${name} is "${model}": that model cannot do ${capability}`);
  }
  for (const model of environment.IMAGE_FALLBACK_MODELS) {
    if (!findModel(model))
      problems.push(`IMAGE_FALLBACK_MODELS names "${model}": not a model this service knows`);
  }
  const moderation = environment.MODERATION ?? (environment.OPENAI_API_KEY ? 'openai' : 'off');
  if (moderation === 'openai' && !environment.OPENAI_API_KEY) {
    problems.push('MODERATION is "openai" but OPENAI_API_KEY is missing: moderation calls OpenAI');
  }
  if (environment.OUTPUT_MODERATION === 'on' && !environment.OPENAI_API_KEY) {
    problems.push('OUTPUT_MODERATION is "on" but OPENAI_API_KEY is missing: images are checked by OpenAI');
  }
  if (environment.PROMPT_ENHANCER === 'openai' && !environment.OPENAI_API_KEY) {
    problems.push('PROMPT_ENHANCER is "openai" but OPENAI_API_KEY is missing: the enhancer calls OpenAI');
  }
  for (const [plan, models] of Object.entries(environment.PLAN_MODELS)) {
    if (models === '*') continue;
    for (const model of models) {
      if (!findModel(model))
        problems.push(`PLAN_MODELS names model "${model}" for plan "${plan}": unknown model`);
    }
  }

  const storage = deriveStorage(environment, problems);
  if (environment.STORAGE === 'local' && !dataDirProblem) {
    const imagesProblem = notAnImagesFolder(path.join(dataDir, 'images'));
    if (imagesProblem) problems.push(imagesProblem);
  }
  if (
    (environment.STORAGE === 'firebase' || environment.FIREBASE_CREDENTIALS_PATH) &&
    !environment.FIREBASE_PROJECT_ID
  ) {
    problems.push('FIREBASE_PROJECT_ID is missing: Firebase auth and storage need the project id');
  }
  if (
    (environment.FIREBASE_AUTH_EMULATOR_HOST || environment.FIREBASE_STORAGE_EMULATOR_HOST) &&
    !environment.FIREBASE_PROJECT_ID
  ) {
    problems.push(
      'FIREBASE_PROJECT_ID is missing: the Firebase emulators need the project id (demo-… keeps them offline)',
    );
  }
  // The Auth emulator's tokens are unsigned, and firebase-admin accepts them while this is set.
  if (environment.FIREBASE_AUTH_EMULATOR_HOST && environment.NODE_ENV === 'production') {
    problems.push(
      'FIREBASE_AUTH_EMULATOR_HOST is set with NODE_ENV=production: anyone could sign in with an unsigned token',
    );
  }
  const discord = deriveDiscord(environment, problems);
  const slack = deriveSlack(environment, problems);
  for (const [variable, grants] of [
    ['DISCORD_ROLE_PLANS', environment.DISCORD_ROLE_PLANS],
    ['SLACK_USERGROUP_PLANS', environment.SLACK_USERGROUP_PLANS],
  ] as const) {
    for (const [id, plan] of Object.entries(grants)) {
      if (plans && !plans.plans[plan]) {
        problems.push(
          `${variable} gives ${id} plan "${plan}", which is not one of: ${Object.keys(plans.plans).join(', ')}`,
        );
      }
    }
  }
  if (problems.length > 0 || !plans) throw new ConfigError(problems);

  const firebase = environment.FIREBASE_PROJECT_ID
    ? {
        projectId: environment.FIREBASE_PROJECT_ID,
        credentialsPath: environment.FIREBASE_CREDENTIALS_PATH,
        checkRevoked: environment.FIREBASE_CHECK_REVOKED,
        emulators: {
          auth: environment.FIREBASE_AUTH_EMULATOR_HOST,
          storage: environment.FIREBASE_STORAGE_EMULATOR_HOST,
        },
      }
    : undefined;
  const portForLinks = environment.PORT === 0 ? 8000 : environment.PORT;

  return {
    environment: environment.NODE_ENV,
    server: {
      host: environment.HOST,
      port: environment.PORT,
      publicBaseUrl: (environment.PUBLIC_BASE_URL ?? `http://localhost:${portForLinks}`).replace(/\/+$/, ''),
      bodyLimitBytes: environment.BODY_LIMIT_BYTES,
      rateLimitPerMinute: environment.RATE_LIMIT_PER_MINUTE,
      readRateLimitPerMinute: environment.READ_RATE_LIMIT_PER_MINUTE,
      shutdownGraceMs: environment.SHUTDOWN_GRACE_MS,
      trustProxy: environment.TRUST_PROXY,
      corsOrigins: environment.CORS_ORIGINS,
    },
    redis: environment.REDIS_URL
      ? { url: environment.REDIS_URL, keyPrefix: environment.REDIS_KEY_PREFIX }
      : undefined,
    dataDir,
    databasePath: path.join(dataDir, 'imagine.sqlite'),
    postgres: environment.DATABASE_URL
      ? { url: environment.DATABASE_URL, poolSize: environment.DATABASE_POOL_SIZE }
      : undefined,
    minFreeDiskBytes: environment.MIN_FREE_DISK_MB * 1024 * 1024,
    logging: {
      level: environment.LOG_LEVEL,
      pretty: environment.LOG_PRETTY ?? environment.NODE_ENV === 'development',
    },
    generation: {
      defaultModel,
      fallbackModels: environment.IMAGE_FALLBACK_MODELS.map((model) => model.toLowerCase()),
      maxJobsPerUser: environment.MAX_JOBS_PER_USER,
      placeholderDelayMs: environment.PLACEHOLDER_DELAY_MS,
      blockedTerms: environment.BLOCKED_TERMS,
      maxBatchSize: environment.MAX_BATCH_SIZE,
      imageToImageModel: environment.IMAGE_TO_IMAGE_MODEL?.toLowerCase(),
      upscaleModel: environment.UPSCALE_MODEL?.toLowerCase(),
      inputImages: {
        maxBytes: environment.MAX_INPUT_IMAGE_BYTES,
        allowedHosts: environment.INPUT_IMAGE_HOSTS.map((host) => host.toLowerCase()),
      },
      embedParameters: environment.PNG_METADATA === 'on',
    },
    providers: {
      replicate: {
        apiToken: environment.REPLICATE_API_TOKEN,
        concurrency: environment.REPLICATE_CONCURRENCY ?? environment.PROVIDER_CONCURRENCY,
      },
      openai: {
        apiKey: environment.OPENAI_API_KEY,
        baseUrl: environment.OPENAI_BASE_URL,
        concurrency: environment.OPENAI_CONCURRENCY ?? environment.PROVIDER_CONCURRENCY,
      },
      deadlineMs: environment.PROVIDER_DEADLINE_MS,
      downloadMaxBytes: environment.DOWNLOAD_MAX_BYTES,
      placeholderDelayMs: environment.PLACEHOLDER_DELAY_MS,
      variable,
      moderation: { kind: moderation, onError: environment.MODERATION_ON_ERROR },
      outputModeration: environment.OUTPUT_MODERATION === 'on',
      promptEnhancer: environment.PROMPT_ENHANCER,
    },
    providerRegistry,
    models: catalog,
    plans,
    monthlyBudgetUsd: environment.MONTHLY_BUDGET_USD,
    consoleSessionHours: environment.CONSOLE_SESSION_HOURS,
    storage,
    discord,
    slack,
    chat: { cooldownSeconds: environment.CHAT_COOLDOWN_SECONDS, nsfwPolicy: environment.NSFW_POLICY },
    firebase,
    createDemoKey: environment.CREATE_DEMO_KEY ?? environment.NODE_ENV !== 'production',
  };
}

function deriveStorage(environment: Environment, problems: string[]): StorageSettings {
  if (environment.STORAGE === 'firebase') {
    if (!environment.FIREBASE_STORAGE_BUCKET) {
      problems.push('FIREBASE_STORAGE_BUCKET is missing: STORAGE=firebase needs the bucket name');
      return { kind: 'local' };
    }
    return {
      kind: 'firebase',
      bucket: environment.FIREBASE_STORAGE_BUCKET,
      makePublic: environment.FIREBASE_MAKE_PUBLIC,
    };
  }
  if (environment.STORAGE === 's3') {
    if (!environment.S3_BUCKET) problems.push('S3_BUCKET is missing: STORAGE=s3 needs the bucket name');
    if (!environment.S3_PUBLIC_BASE_URL) {
      problems.push(
        'S3_PUBLIC_BASE_URL is missing: STORAGE=s3 needs the CDN or bucket URL images are served from',
      );
    }
    if (!environment.S3_BUCKET || !environment.S3_PUBLIC_BASE_URL) return { kind: 'local' };
    return {
      kind: 's3',
      bucket: environment.S3_BUCKET,
      region: environment.S3_REGION,
      endpoint: environment.S3_ENDPOINT,
      forcePathStyle: environment.S3_FORCE_PATH_STYLE ?? environment.S3_ENDPOINT !== undefined,
      publicBaseUrl: environment.S3_PUBLIC_BASE_URL.replace(/\/+$/, ''),
    };
  }
  return { kind: 'local' };
}

function deriveDiscord(environment: Environment, problems: string[]): DiscordSettings | undefined {
  if (!environment.DISCORD_BOT_TOKEN) return undefined;
  if (!environment.DISCORD_APPLICATION_ID) {
    problems.push('DISCORD_APPLICATION_ID is missing: the Discord bot needs its application id');
  }
  if (environment.DISCORD_MODE === 'http' && !environment.DISCORD_PUBLIC_KEY) {
    problems.push('DISCORD_PUBLIC_KEY is missing: DISCORD_MODE=http verifies interactions with it');
  }
  return {
    mode: environment.DISCORD_MODE,
    botToken: environment.DISCORD_BOT_TOKEN,
    applicationId: environment.DISCORD_APPLICATION_ID ?? '',
    publicKey: environment.DISCORD_PUBLIC_KEY?.toLowerCase(),
    guildId: environment.DISCORD_GUILD_ID,
    allowedRoles: environment.DISCORD_ALLOWED_ROLES,
    serverMonthlyImages: environment.DISCORD_SERVER_MONTHLY_IMAGES,
    apiBaseUrl: (environment.DISCORD_API_BASE_URL ?? 'https://discord.com/api').replace(/\/+$/, ''),
    adminRoles: environment.DISCORD_ADMIN_ROLES,
    allowedChannels: environment.DISCORD_ALLOWED_CHANNELS,
    rolePlans: environment.DISCORD_ROLE_PLANS,
  };
}

function deriveSlack(environment: Environment, problems: string[]): SlackSettings | undefined {
  if (!environment.SLACK_BOT_TOKEN) return undefined;
  if (!environment.SLACK_SIGNING_SECRET) {
    problems.push('SLACK_SIGNING_SECRET is missing: the Slack app verifies every request with it');
  }
  if (environment.SLACK_MODE === 'socket' && !environment.SLACK_APP_TOKEN) {
    problems.push('SLACK_APP_TOKEN is missing: SLACK_MODE=socket connects with an app-level token (xapp-)');
  }
  return {
    mode: environment.SLACK_MODE,
    botToken: environment.SLACK_BOT_TOKEN,
    signingSecret: environment.SLACK_SIGNING_SECRET ?? '',
    appToken: environment.SLACK_APP_TOKEN,
    workspaceMonthlyImages: environment.SLACK_WORKSPACE_MONTHLY_IMAGES,
    apiUrl: (environment.SLACK_API_URL ?? 'https://slack.com/api/').replace(/\/*$/, '/'),
    adminUsers: environment.SLACK_ADMIN_USERS,
    allowedChannels: environment.SLACK_ALLOWED_CHANNELS,
    usergroupPlans: environment.SLACK_USERGROUP_PLANS,
  };
}
