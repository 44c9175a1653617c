import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { UsageRow } from '../../../core/admin/admin-queries.ts';
import { unfinishedJobStatuses } from '../../../core/admin/admin-queries.ts';
import type { AdminServices } from '../../../core/admin/admin-services.ts';
import { billingPeriod } from '../../../core/quota/billing-period.ts';
import {
  adminErrorResponses,
  adminResponseHeaders,
  auditListResponseSchema,
  jobListResponseSchema,
  monthQuerySchema,
  overviewResponseSchema,
  pageQuerySchema,
  usageResponseSchema,
} from './admin-schemas.ts';

const security = [{ bearer: [] }];

/** Read-only admin reports: the month's overview, usage per user (JSON and CSV), the live queue, the audit trail. */
export const adminReportRoutes: FastifyPluginAsyncZod<{ admin: AdminServices; now: () => Date }> = async (
  app,
  { admin, now },
) => {
  app.get(
    '/api/v1/admin/overview',
    {
      schema: {
        operationId: 'adminOverview',
        summary: "The month's images, spending against the budget, failures and per-day series",
        tags: ['admin'],
        security,
        querystring: monthQuerySchema,
        response: { 200: overviewResponseSchema, ...adminErrorResponses },
      },
    },
    async (request) => {
      const overview = await admin.queries.overview(
        request.query.month ?? billingPeriod(now()),
        admin.budgetUsd,
      );
      const served = <Row extends { images: number; failures: number; failureRate: number }>(row: Row) => ({
        images: row.images,
        failures: row.failures,
        failure_rate: row.failureRate,
      });
      return {
        month: overview.month,
        images: overview.images,
        reserved_images: overview.reservedImages,
        cost_usd: overview.costUsd,
        budget_usd: overview.budgetUsd ?? null,
        today: overview.today ? { images: overview.today.images, cost_usd: overview.today.costUsd } : null,
        days: overview.days.map((day) => ({ date: day.date, images: day.images, cost_usd: day.costUsd })),
        models: overview.models.map((row) => ({ model: row.model, provider: row.provider, ...served(row) })),
        providers: overview.providers.map((row) => ({ provider: row.provider, ...served(row) })),
        top_users: overview.topUsers.map((row) => ({ uid: row.userId, images: row.images })),
        top_scopes: overview.topScopes,
      };
    },
  );

  const usageRows = async (month: string | undefined) =>
    (await admin.queries.usage(month ?? billingPeriod(now()))).map((row: UsageRow) => ({
      uid: row.userId,
      plan: row.plan,
      images: row.images,
      cost_usd: row.costUsd,
    }));

  app.get(
    '/api/v1/admin/usage',
    {
      schema: {
        operationId: 'adminUsage',
        summary: 'One row per user charged this month: plan, images and cost',
        tags: ['admin'],
        security,
        querystring: monthQuerySchema,
        response: {
          200: usageResponseSchema,
          ...adminErrorResponses,
        },
      },
    },
    async (request) => ({
      month: request.query.month ?? billingPeriod(now()),
      users: await usageRows(request.query.month),
    }),
  );

  app.get(
    '/api/v1/admin/usage.csv',
    {
      schema: {
        operationId: 'adminUsageCsv',
        summary: 'The usage report as CSV, with a header row',
        tags: ['admin'],
        security,
        querystring: monthQuerySchema,
        response: {
          // Not JSON: declared by content type, so the document says `text/csv` for this answer alone and
          // the errors stay JSON. Fastify sends the handler's string as it is, without serializing it.
          200: {
            description:
              'The usage report as CSV: a header row `uid,plan,images,cost_usd`, then one row per user',
            headers: adminResponseHeaders.attachment,
            content: { 'text/csv': { schema: z.string().describe('uid,plan,images,cost_usd') } },
          },
          ...adminErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const month = request.query.month ?? billingPeriod(now());
      const lines = [['uid', 'plan', 'images', 'cost_usd'].join(',')];
      for (const row of await usageRows(month)) {
        lines.push([row.uid, row.plan, String(row.images), String(row.cost_usd)].map(csvField).join(','));
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="imagine-usage-${month}.csv"`)
        .send(`${lines.join('\r\n')}\r\n`);
    },
  );

  app.get(
    '/api/v1/admin/jobs',
    {
      schema: {
        operationId: 'adminJobs',
        summary: 'Jobs queued or running, oldest first',
        tags: ['admin'],
        security,
        querystring: z.object({ status: z.enum(unfinishedJobStatuses).optional() }),
        response: { 200: jobListResponseSchema, ...adminErrorResponses },
      },
    },
    async (request) => ({
      jobs: (await admin.queries.jobs(request.query.status)).map((job) => ({
        id: job.id,
        uid: job.userId,
        kind: job.kind,
        source: job.source,
        status: job.status,
        model: job.model,
        position: job.position,
        age_seconds: job.ageSeconds,
        progress: job.progress ?? null,
        created_at: job.createdAt,
      })),
    }),
  );

  app.get(
    '/api/v1/admin/audit',
    {
      schema: {
        operationId: 'adminAudit',
        summary: 'Every admin change, newest first: who, what, when, before and after',
        tags: ['admin'],
        security,
        querystring: pageQuerySchema,
        response: {
          200: auditListResponseSchema,
          ...adminErrorResponses,
        },
      },
    },
    async (request) => {
      const page = await admin.audit.list({ limit: request.query.limit, cursor: request.query.cursor });
      return {
        entries: page.entries.map((entry) => ({
          id: entry.id,
          actor: entry.actor,
          action: entry.action,
          target: entry.target,
          before: entry.before,
          after: entry.after,
          created_at: entry.createdAt,
        })),
        next_cursor: page.nextCursor ?? null,
      };
    },
  );
};

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A field a spreadsheet would
 * run as a formula (=, +, -, @ first) is prefixed with an apostrophe, since uids come from chat platforms.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
