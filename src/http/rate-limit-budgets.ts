import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Which per-user allowance a request draws on. Generation costs provider calls and quota; reads (job polls,
 * usage, history, styles) cost a database lookup, and a client polling its jobs must not use up its
 * generations.
 */
export type RateLimitBudget = 'generation' | 'read';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The allowance this route draws on; a route that names none is a read. */
    rateLimitBudget?: RateLimitBudget;
  }
}

/**
 * One onRequest hook for a scope: each route is counted against its own budget's limit per minute. One
 * limiter per budget, not one per route (as `config.rateLimit` would make), so the single-image and batch
 * routes share one generation allowance. The budget is part of the key (`generation:<user id>`): in memory
 * each limiter has a store of its own, but in Redis they share one namespace, and a user's job polls must
 * not count against their generations.
 */
export function rateLimitByBudget(
  app: FastifyInstance,
  perMinute: Readonly<Record<RateLimitBudget, number>>,
  callerKey: (request: FastifyRequest) => string,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const limiter = (budget: RateLimitBudget) =>
    app.rateLimit({ max: perMinute[budget], keyGenerator: (request) => `${budget}:${callerKey(request)}` });
  const limiters = { generation: limiter('generation'), read: limiter('read') };
  return async (request, reply) => {
    const budget = request.routeOptions.config.rateLimitBudget ?? 'read';
    await limiters[budget].call(app, request, reply);
  };
}
