import { z } from 'zod';
import type { PlanAllowance } from '../core/quota/plans.ts';

/** Comma-separated list → trimmed, non-empty strings. */
const commaList = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  )
  .describe('a comma-separated list');

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes')
  .describe('true or false');

const positiveInteger = z.coerce.number().int().positive();
/** One message for every way a pool size is wrong: the operator needs the range, not zod's reason. */
const poolSize = { error: 'must be a whole number of connections, 1 to 1000' };
const nonNegativeInteger = z.coerce.number().int().nonnegative();

/**
 * `free=5,pro=200/month+20/day` → `{ free: { monthly: 5 }, pro: { monthly: 200, daily: 20 } }`. A bare number
 * is monthly (as before daily allowances existed); `pro=20/day` keeps the plan's default monthly allowance.
 */
const planLimits = z
  .string()
  .transform((text, context) => {
    const limits: Record<string, PlanAllowance> = {};
    for (const entry of text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const match = /^([a-z][a-z0-9_-]*)=(.+)$/i.exec(entry);
      const allowance = match?.[2] === undefined ? undefined : parseAllowance(match[2]);
      if (!match?.[1] || !allowance) {
        context.addIssue({
          code: 'custom',
          message: `"${entry}" is not plan=number (monthly) or plan=N/month+M/day`,
        });
        return z.NEVER;
      }
      limits[match[1].toLowerCase()] = allowance;
    }
    return limits;
  })
  .describe('plan=monthly images pairs, e.g. free=5,pro=200/month+20/day');

/** `200`, `200/month`, `20/day`, `200/month+20/day` (either order); undefined when malformed. */
function parseAllowance(text: string): PlanAllowance | undefined {
  const allowance: PlanAllowance = { monthly: undefined, daily: undefined };
  for (const term of text.split('+').map((part) => part.trim())) {
    const match = /^(\d+)(?:\/(month|day))?$/i.exec(term);
    if (!match) return undefined;
    const period = match[2]?.toLowerCase() === 'day' ? 'daily' : 'monthly';
    if (allowance[period] !== undefined) return undefined;
    allowance[period] = Number(match[1]);
  }
  return allowance;
}

/** `<id>=<plan>,…` (DISCORD_ROLE_PLANS, SLACK_USERGROUP_PLANS) → `{ id: plan }`. */
const idPlans = z
  .string()
  .transform((text, context) => {
    const plans: Record<string, string> = {};
    for (const entry of text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const match = /^([A-Za-z0-9]+)=([a-z][a-z0-9_-]*)$/i.exec(entry);
      if (!match?.[1] || !match[2]) {
        context.addIssue({ code: 'custom', message: `"${entry}" is not <id>=<plan>` });
        return z.NEVER;
      }
      plans[match[1]] = match[2].toLowerCase();
    }
    return plans;
  })
  .describe('<id>=<plan> pairs, comma-separated');

/** `enterprise=*;pro=flux-schnell,flux-dev` → `{ enterprise: '*', pro: ['flux-schnell','flux-dev'] }`. */
const planModels = z
  .string()
  .transform((text, context) => {
    const models: Record<string, '*' | string[]> = {};
    for (const entry of text
      .split(';')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const match = /^([a-z][a-z0-9_-]*)=(.+)$/i.exec(entry);
      if (!match?.[1] || !match[2]) {
        context.addIssue({ code: 'custom', message: `"${entry}" is not plan=model,model or plan=*` });
        return z.NEVER;
      }
      const list = match[2].trim();
      models[match[1].toLowerCase()] =
        list === '*'
          ? '*'
          : list
              .split(',')
              .map((model) => model.trim())
              .filter(Boolean);
    }
    return models;
  })
  .describe('plan=model,model pairs separated by ";", or plan=* for every model');

/** `127.0.0.1:9099`: where an emulator listens, as the Firebase tools print it (no scheme, no path). */
const emulatorHost = z
  .string()
  .regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i, 'host:port without http://, e.g. 127.0.0.1:9099');

/**
 * Every environment variable the service reads. Each has a default that works offline, so an empty
 * environment starts a working service (SQLite in ./data, local images, the placeholder provider).
 */
export const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  // Read by read-environment.ts before the rest; listed here so it is documented and validated like the others.
  ENV_FILE: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  MIN_FREE_DISK_MB: nonNegativeInteger.default(64),
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: booleanFlag.optional(),

  // No default here: it depends on which provider credentials are set (see load-config.ts).
  IMAGE_MODEL: z.string().min(1).optional(),
  IMAGE_FALLBACK_MODELS: commaList.default([]),
  IMAGE_TO_IMAGE_MODEL: z.string().min(1).optional(),
  UPSCALE_MODEL: z.string().min(1).optional(),
  MAX_INPUT_IMAGE_BYTES: positiveInteger.default(10 * 1024 * 1024),
  INPUT_IMAGE_HOSTS: commaList.default(['cdn.discordapp.com', 'media.discordapp.net']),
  PNG_METADATA: z.enum(['on', 'off']).default('on'),
  MODELS_FILE: z.string().min(1).optional(),
  REPLICATE_API_TOKEN: z.string().min(1).optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  MODERATION: z.enum(['off', 'openai']).optional(),
  MODERATION_ON_ERROR: z.enum(['allow', 'refuse']).default('allow'),
  OUTPUT_MODERATION: z.enum(['on', 'off']).default('off'),
  PROMPT_ENHANCER: z.enum(['rules', 'openai']).default('rules'),
  PROVIDER_DEADLINE_MS: positiveInteger.default(60_000),
  PROVIDER_CONCURRENCY: positiveInteger.default(4),
  REPLICATE_CONCURRENCY: positiveInteger.optional(),
  OPENAI_CONCURRENCY: positiveInteger.optional(),
  MAX_JOBS_PER_USER: positiveInteger.default(2),
  DOWNLOAD_MAX_BYTES: positiveInteger.default(20 * 1024 * 1024),
  PLACEHOLDER_DELAY_MS: nonNegativeInteger.default(0),
  BLOCKED_TERMS: commaList.default([]),
  MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(4).default(4),

  PLAN_LIMITS: planLimits.default({}),
  PLAN_MODELS: planModels.default({}),
  DEFAULT_PLAN: z.string().min(1).default('free'),
  GUEST_MONTHLY_IMAGES: nonNegativeInteger.optional(),
  MONTHLY_BUDGET_USD: z.coerce.number().nonnegative().optional(),

  CHAT_COOLDOWN_SECONDS: nonNegativeInteger.default(0),
  NSFW_POLICY: z.enum(['block', 'nsfw-channels', 'allow']).default('block'),

  TRUST_PROXY: booleanFlag.default(false),
  CORS_ORIGINS: commaList
    .pipe(
      z.array(
        z.union([
          z.literal('*'),
          z.url({ protocol: /^https?$/ }).regex(/^[^/]+\/\/[^/]+$/, 'an origin (no path)'),
        ]),
      ),
    )
    .default([]),
  RATE_LIMIT_PER_MINUTE: positiveInteger.default(60),
  READ_RATE_LIMIT_PER_MINUTE: positiveInteger.default(600),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  DATABASE_POOL_SIZE: z.coerce
    .number(poolSize)
    .int(poolSize)
    .min(1, poolSize)
    .max(1000, poolSize)
    .default(10),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  REDIS_KEY_PREFIX: z.string().min(1).default('imagine:'),
  BODY_LIMIT_BYTES: positiveInteger.default(65_536),
  SHUTDOWN_GRACE_MS: positiveInteger.default(10_000),
  CREATE_DEMO_KEY: booleanFlag.optional(),
  CONSOLE_SESSION_HOURS: z.coerce.number().positive().max(720).default(12),

  DISCORD_MODE: z.enum(['gateway', 'http']).default('gateway'),
  DISCORD_BOT_TOKEN: z.string().min(1).optional(),
  DISCORD_APPLICATION_ID: z
    .string()
    .regex(/^\d{5,25}$/, 'a numeric application id')
    .optional(),
  DISCORD_PUBLIC_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, '64 hex characters, as the developer portal shows it')
    .optional(),
  DISCORD_GUILD_ID: z
    .string()
    .regex(/^\d{5,25}$/, 'a numeric server id')
    .optional(),
  DISCORD_ALLOWED_ROLES: commaList.default([]),
  DISCORD_SERVER_MONTHLY_IMAGES: positiveInteger.optional(),
  DISCORD_API_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  DISCORD_ADMIN_ROLES: commaList.default([]),
  DISCORD_ALLOWED_CHANNELS: commaList.default([]),
  DISCORD_ROLE_PLANS: idPlans.default({}),

  SLACK_MODE: z.enum(['socket', 'http']).default('socket'),
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'a bot token starting with xoxb-').optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'an app-level token starting with xapp-').optional(),
  SLACK_WORKSPACE_MONTHLY_IMAGES: positiveInteger.optional(),
  SLACK_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  SLACK_ADMIN_USERS: commaList.default([]),
  SLACK_ALLOWED_CHANNELS: commaList.default([]),
  SLACK_USERGROUP_PLANS: idPlans.default({}),

  STORAGE: z.enum(['local', 'firebase', 's3']).default('local'),
  FIREBASE_PROJECT_ID: z.string().min(1).optional(),
  FIREBASE_CREDENTIALS_PATH: z.string().min(1).optional(),
  FIREBASE_STORAGE_BUCKET: z.string().min(1).optional(),
  FIREBASE_MAKE_PUBLIC: booleanFlag.default(true),
  FIREBASE_CHECK_REVOKED: booleanFlag.default(true),
  FIREBASE_AUTH_EMULATOR_HOST: emulatorHost.optional(),
  FIREBASE_STORAGE_EMULATOR_HOST: emulatorHost.optional(),
  S3_BUCKET: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_FORCE_PATH_STYLE: booleanFlag.optional(),
  S3_PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
});

/** The raw, parsed environment. */
export type Environment = z.infer<typeof environmentSchema>;
