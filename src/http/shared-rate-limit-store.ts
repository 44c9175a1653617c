import { createRequire } from 'node:module';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { RedisConnection } from '../core/redis/redis-connection.ts';

type Counted = { current: number; ttl: number };
type Callback = (error: Error | null, result?: Counted) => void;

/** The plugin's own Redis store (one Lua INCR + PEXPIRE per check); the package exports it only by path. */
interface RedisStore {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void;
  read(key: string, callback: Callback, timeWindow: number, max: number): void;
  child(options: ChildOptions): RedisStore;
}
interface ChildOptions {
  continueExceeding: boolean;
  exponentialBackoff: boolean;
  routeInfo: { method?: string; url?: string };
}
const RedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: RedisConnection['client'],
  nameSpace: string,
) => RedisStore;

/** The plugin's Redis store, with every failed check reported to the connection before it is skipped. */
class ReportingStore implements FastifyRateLimitStore {
  constructor(
    private readonly store: RedisStore,
    private readonly redis: RedisConnection,
    private readonly nameSpace: string,
  ) {}

  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.store.incr(key, this.#reporting(callback), timeWindow, max);
  }

  read(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.store.read(key, this.#reporting(callback), timeWindow, max);
  }

  child(options: unknown): FastifyRateLimitStore {
    const route = options as ChildOptions;
    // `app.rateLimit()` limiters have no route, and the plugin's child would count them all under
    // "undefinedundefined-"; they tell their budgets apart by key instead (rate-limit-budgets.ts).
    const store =
      route.routeInfo.url === undefined
        ? new RedisStore(route.continueExceeding, route.exponentialBackoff, this.redis.client, this.nameSpace)
        : this.store.child(route);
    return new ReportingStore(store, this.redis, this.nameSpace);
  }

  #reporting(callback: Callback): Callback {
    return (error, result) => {
      if (error) this.redis.failed(error);
      callback(error, result);
    };
  }
}

/**
 * @fastify/rate-limit's Redis store counting under `<REDIS_KEY_PREFIX>rate-limit:`, which logs a failed check
 * (throttled) before the plugin's `skipOnError` lets the request through: the plugin alone would skip it
 * silently, and nobody would learn that limits had stopped counting.
 */
export function sharedRateLimitStore(redis: RedisConnection): FastifyRateLimitStoreCtor {
  const nameSpace = `${redis.keyPrefix}rate-limit:`;
  return class extends ReportingStore {
    constructor(options: { continueExceeding?: boolean; exponentialBackoff?: boolean }) {
      const store = new RedisStore(
        options.continueExceeding ?? false,
        options.exponentialBackoff ?? false,
        redis.client,
        nameSpace,
      );
      super(store, redis, nameSpace);
    }
  };
}
