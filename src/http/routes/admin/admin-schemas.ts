import { z } from 'zod';
import { commonErrorResponses, errorResponseSchema } from '../../schemas/response-schemas.ts';

/** Every admin route's refusals: the common ones, and 403 `forbidden` for callers who are not admins. */
export const adminErrorResponses = { ...commonErrorResponses, 403: errorResponseSchema };

/** `YYYY-MM`, defaulting to the current month. */
export const monthQuerySchema = z.object({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM')
    .optional()
    .describe('The month as YYYY-MM (UTC); the current month when left out'),
});

/** `limit` and `cursor`, as every paged admin list takes them. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(400).optional().describe('The `next_cursor` of the previous page'),
});

const servedSchema = z.object({
  images: z.number().int().describe('Images delivered'),
  failures: z.number().int().describe('Images lost to failed model calls'),
  failure_rate: z.number().describe('failures / (images + failures)'),
});

export const overviewResponseSchema = z.object({
  month: z.string(),
  images: z.number().int().describe("Images charged this month (the quota ledger's count)"),
  reserved_images: z.number().int().describe('Images held by generations still running'),
  cost_usd: z.number().describe('Spending at list price this month'),
  budget_usd: z.number().nullable().describe('MONTHLY_BUDGET_USD; null when no budget is set'),
  today: z
    .object({ images: z.number().int(), cost_usd: z.number() })
    .nullable()
    .describe('Images recorded today; null for a month other than the current one'),
  days: z.array(z.object({ date: z.string(), images: z.number().int(), cost_usd: z.number() })),
  models: z.array(servedSchema.extend({ model: z.string(), provider: z.string() })),
  providers: z.array(servedSchema.extend({ provider: z.string() })),
  top_users: z.array(z.object({ uid: z.string(), images: z.number().int() })),
  top_scopes: z
    .array(z.object({ scope: z.string(), images: z.number().int() }))
    .describe('Discord servers and Slack workspaces, heaviest first'),
});

export const userSchema = z.object({
  uid: z.string(),
  plan: z.string(),
  linked_identities: z.array(z.string()),
  used_this_month: z.number().int(),
  created_at: z.string(),
});

export const usageRowSchema = z.object({
  uid: z.string(),
  plan: z.string(),
  images: z.number().int().describe('Images charged this month'),
  cost_usd: z.number().describe('What the images still on record cost'),
});

export const adminImageSchema = z.object({
  id: z.string(),
  uid: z.string(),
  source: z.string(),
  prompt: z.string(),
  model: z.string(),
  image_url: z.string(),
  size: z.string(),
  cost_usd: z.number(),
  created_at: z.string(),
});

export const adminJobSchema = z.object({
  id: z.string(),
  uid: z.string(),
  kind: z.string(),
  source: z.string(),
  status: z.enum(['queued', 'running']),
  model: z.string(),
  position: z.number().int().describe("Place in its user's line (1 = next); 0 while running"),
  age_seconds: z.number().int(),
  progress: z.number().nullable(),
  created_at: z.string(),
});

export const apiKeySchema = z.object({
  prefix: z.string().describe('The first 12 characters: enough to name the key, never the key'),
  uid: z.string(),
  label: z.string().nullable(),
  admin: z.boolean(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});

export const auditEntrySchema = z.object({
  id: z.number().int(),
  actor: z.string().describe('The admin key prefix and its owner'),
  action: z.string(),
  target: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  created_at: z.string(),
});
