import { z } from 'zod';
import { commonErrorResponses, errorResponse } from '../../schemas/response-schemas.ts';

// Each body is registered under an `Admin…` name, so `/openapi.json` gives it as a `$ref` and a client
// generator gives it a named type, as it does the app API's bodies.

/** Every admin route's refusals: the common ones, and 403 `forbidden` for callers who are not admins. */
export const adminErrorResponses = {
  ...commonErrorResponses,
  403: errorResponse(
    "forbidden: the caller is not an admin, or a console request lacks its session's CSRF token",
  ),
};

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

const nextCursorSchema = z
  .string()
  .nullable()
  .describe('Pass as `cursor` for the next page; null on the last page');

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
z.globalRegistry.add(overviewResponseSchema, {
  id: 'AdminOverview',
  description: "The month's images, spending against the budget, failures and per-day series",
});

export const userSchema = z.object({
  uid: z.string(),
  plan: z.string(),
  linked_identities: z.array(z.string()),
  used_this_month: z.number().int(),
  created_at: z.string(),
});
z.globalRegistry.add(userSchema, { id: 'AdminUser', description: 'An app account' });

export const userListResponseSchema = z.object({
  users: z.array(userSchema),
  next_cursor: nextCursorSchema,
  plans: z.array(z.string()).describe('The plans a user may be moved to'),
});
z.globalRegistry.add(userListResponseSchema, {
  id: 'AdminUserList',
  description: 'A page of app accounts, and the plans they may be moved to',
});

export const updateUserRequestSchema = z.object({ plan: z.string().min(1).max(64) });
z.globalRegistry.add(updateUserRequestSchema, {
  id: 'AdminUpdateUserRequest',
  description: "The user's new plan",
});

export const planChangeResponseSchema = z.object({
  uid: z.string(),
  plan: z.string(),
  previous_plan: z.string(),
});
z.globalRegistry.add(planChangeResponseSchema, {
  id: 'AdminPlanChange',
  description: "The user's plan, changed",
});

export const usageRowSchema = z.object({
  uid: z.string(),
  plan: z.string(),
  images: z.number().int().describe('Images charged this month'),
  cost_usd: z.number().describe('What the images still on record cost'),
});
z.globalRegistry.add(usageRowSchema, {
  id: 'AdminUsageRow',
  description: "One user's charged images and their cost in a month",
});

export const usageResponseSchema = z.object({ month: z.string(), users: z.array(usageRowSchema) });
z.globalRegistry.add(usageResponseSchema, {
  id: 'AdminUsage',
  description: 'One row per user charged in the month',
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
z.globalRegistry.add(adminImageSchema, { id: 'AdminImage', description: "A user's stored image" });

export const imageListResponseSchema = z.object({
  images: z.array(adminImageSchema),
  next_cursor: nextCursorSchema,
});
z.globalRegistry.add(imageListResponseSchema, {
  id: 'AdminImageList',
  description: 'A page of stored images, newest first',
});

export const deletedImageResponseSchema = z.object({ deleted: adminImageSchema, refunded: z.boolean() });
z.globalRegistry.add(deletedImageResponseSchema, {
  id: 'AdminDeletedImage',
  description: 'The image removed, and whether its usage was refunded',
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
z.globalRegistry.add(adminJobSchema, { id: 'AdminJob', description: 'A job queued or running' });

export const jobListResponseSchema = z.object({ jobs: z.array(adminJobSchema) });
z.globalRegistry.add(jobListResponseSchema, {
  id: 'AdminJobList',
  description: 'Jobs queued or running, oldest first',
});

export const apiKeySchema = z.object({
  prefix: z.string().describe('The first 12 characters: enough to name the key, never the key'),
  uid: z.string(),
  label: z.string().nullable(),
  admin: z.boolean(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});
z.globalRegistry.add(apiKeySchema, { id: 'AdminKey', description: 'An API key, without its secret' });

export const keyListResponseSchema = z.object({ keys: z.array(apiKeySchema) });
z.globalRegistry.add(keyListResponseSchema, {
  id: 'AdminKeyList',
  description: 'Every API key, revoked ones too',
});

export const createKeyRequestSchema = z.object({
  uid: z.string().min(1).max(256),
  plan: z.string().min(1).max(64).optional(),
  label: z.string().max(200).optional(),
  admin: z.boolean().default(false),
});
z.globalRegistry.add(createKeyRequestSchema, {
  id: 'AdminCreateKeyRequest',
  description: 'Whose key to create, and what it may do',
});

export const createdKeySchema = apiKeySchema.extend({
  key: z.string().describe('Shown once: store it now'),
});
z.globalRegistry.add(createdKeySchema, {
  id: 'AdminCreatedKey',
  description: 'The new API key, its secret included this once',
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
z.globalRegistry.add(auditEntrySchema, { id: 'AdminAuditEntry', description: 'One admin change' });

export const auditListResponseSchema = z.object({
  entries: z.array(auditEntrySchema),
  next_cursor: nextCursorSchema,
});
z.globalRegistry.add(auditListResponseSchema, {
  id: 'AdminAuditList',
  description: 'A page of admin changes, newest first',
});

/** Headers only admin responses set, in the form `documented()` takes. */
export const adminResponseHeaders = {
  noStore: {
    'Cache-Control': { type: 'string', enum: ['no-store'], description: 'The key must not be cached' },
  },
  attachment: {
    'Content-Disposition': {
      type: 'string',
      description: 'attachment; filename="imagine-usage-YYYY-MM.csv"',
    },
  },
} as const;
