import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { LinkCodes } from '../../core/accounts/link-codes.ts';
import type { UserAccounts } from '../../core/accounts/user-accounts.ts';
import type { QuotaLedger } from '../../core/quota/quota-ledger.ts';
import { isoSeconds } from '../image-response.ts';
import { commonErrorResponses } from '../schemas/response-schemas.ts';

const usageResponseSchema = z.object({
  plan: z.string(),
  used: z.number().int().describe('Images charged this month'),
  limit: z.number().int(),
  remaining: z.number().int(),
  resets_at: z.string().describe('When the monthly count starts again (ISO 8601 UTC)'),
  reserved: z.number().int().describe('Extension: images held by generations still running'),
  linked_identities: z
    .array(z.string())
    .describe('Extension: Discord and Slack identities drawing on this quota'),
  daily: z
    .object({
      used: z.number().int(),
      limit: z.number().int(),
      remaining: z.number().int(),
      resets_at: z.string().describe('The next midnight, UTC'),
    })
    .optional()
    .describe("Extension: today's standing, when the plan has a daily allowance"),
});
z.globalRegistry.add(usageResponseSchema, {
  id: 'Usage',
  description: "The caller's plan and usage this month",
});

const linkCodeResponseSchema = z.object({
  code: z.string().describe('Type this into /link in Discord or /imagine-link in Slack'),
  expires_at: z.string(),
  expires_in: z.number().int().describe('Seconds until the code expires'),
});
z.globalRegistry.add(linkCodeResponseSchema, {
  id: 'LinkCode',
  description: 'A one-time code that links a chat account to this one',
});

/** `GET /api/v1/usage` and `POST /api/v1/account/link-codes`. */
export const accountRoutes: FastifyPluginAsyncZod<{
  ledger: QuotaLedger;
  accounts: UserAccounts;
  linkCodes: LinkCodes;
  now: () => Date;
}> = async (app, { ledger, accounts, linkCodes, now }) => {
  app.get(
    '/api/v1/usage',
    {
      schema: {
        operationId: 'getUsage',
        summary: "The caller's plan and usage this month",
        tags: ['account'],
        security: [{ bearer: [] }],
        response: { 200: usageResponseSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const { userId, plan } = request.caller;
      const usage = await ledger.usage(userId, plan.monthlyImages, plan.dailyImages);
      return {
        plan: plan.name,
        used: usage.used,
        limit: usage.limit,
        remaining: usage.remaining,
        resets_at: isoSeconds(usage.resetsAt),
        reserved: usage.reserved,
        linked_identities: await accounts.identitiesOf(userId),
        ...(usage.daily
          ? {
              daily: {
                used: usage.daily.used,
                limit: usage.daily.limit,
                remaining: usage.daily.remaining,
                resets_at: isoSeconds(usage.daily.resetsAt),
              },
            }
          : {}),
      };
    },
  );

  app.post(
    '/api/v1/account/link-codes',
    {
      schema: {
        operationId: 'createLinkCode',
        summary: 'Create a one-time code that links a Discord or Slack account to this one',
        tags: ['account'],
        security: [{ bearer: [] }],
        response: { 201: linkCodeResponseSchema, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      const linkCode = await linkCodes.create(request.caller.userId);
      return reply.code(201).send({
        code: linkCode.code,
        expires_at: isoSeconds(linkCode.expiresAt),
        expires_in: Math.round((linkCode.expiresAt.getTime() - now().getTime()) / 1000),
      });
    },
  );
};
