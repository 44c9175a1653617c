import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { throttledWarning } from '../logging/throttled-warning.ts';

/** The Redis client shared rate limits count in, built so that Redis being away never holds up a request. */
export interface RedisConnection {
  readonly client: Redis;
  /** REDIS_KEY_PREFIX: the start of every key this service writes. */
  readonly keyPrefix: string;
  /** Connects, waiting a second at most; resolves either way: without Redis, rate limits fail open. */
  connect(): Promise<void>;
  /** Whether Redis answers right now, for /health. */
  probe(): Promise<'ok' | 'unreachable'>;
  /** Counts a failed command or connection attempt, logged at most once a minute. */
  failed(error: unknown): void;
  close(): Promise<void>;
}

/** How long a rate-limit check may wait for Redis before the request goes ahead uncounted. */
const commandTimeoutMs = 500;
/** How long the start waits for Redis; past it, imagine serves and the client goes on connecting. */
const connectTimeoutMs = 1_000;

/**
 * A client that does nothing until `connect()` (building services for the CLI opens no socket), keeps no
 * offline queue (while disconnected a command fails at once instead of waiting for a reconnect), gives up on
 * a command after half a second, and keeps trying to reconnect in the background, backing off to 5 s.
 * `client` stands in for the real one in tests (ioredis-mock on a machine with no Redis).
 */
export function createRedisConnection(options: {
  /** REDIS_URL (it may hold a password, so it is never logged) and REDIS_KEY_PREFIX. */
  settings: { url: string; keyPrefix: string };
  logger: Logger;
  client?: Redis;
}): RedisConnection {
  const { settings, logger } = options;
  const client =
    options.client ??
    new Redis(settings.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      connectTimeout: connectTimeoutMs,
      commandTimeout: commandTimeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
      connectionName: 'imagine',
    });
  const failed = throttledWarning({
    logger,
    message: 'redis unreachable: rate limits are not counted (requests go ahead) until it is back',
    intervalMs: 60_000,
  });
  let down = false;
  // Without a listener ioredis prints every failed reconnect to stderr itself.
  client.on('error', (error: unknown) => {
    down = true;
    failed(error);
  });
  client.on('ready', () => {
    if (down) logger.info('redis reachable again: rate limits are shared again');
    down = false;
  });
  let closed = false;
  return {
    client,
    keyPrefix: settings.keyPrefix,
    async connect() {
      const connecting = client.connect().then(
        () => undefined,
        (error: unknown) => {
          // A refused connection has already been logged through the 'error' event; ioredis keeps retrying.
          if (!down) failed(error);
          down = true;
        },
      );
      // A Redis that accepts the connection but never answers would hold the start for several seconds.
      let timer: NodeJS.Timeout | undefined;
      const patience = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, connectTimeoutMs);
        timer.unref();
      });
      await Promise.race([connecting, patience]);
      clearTimeout(timer);
    },
    async probe() {
      try {
        await client.ping();
        return 'ok';
      } catch {
        return 'unreachable';
      }
    },
    failed(error) {
      failed(error);
    },
    async close() {
      if (closed) return;
      closed = true;
      // Nothing is waiting on a reply once the HTTP server has closed, so there is nothing to flush.
      client.disconnect();
    },
  };
}
