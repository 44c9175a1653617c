import type { FastifyCorsOptions } from '@fastify/cors';

/**
 * CORS for web apps on other origins (`CORS_ORIGINS`). `*` allows any origin: the API authenticates with a
 * bearer token, never a cookie, so a page elsewhere can only act with a token its user gave it.
 */
export function corsOptions(origins: readonly string[]): FastifyCorsOptions {
  return {
    origin: origins.includes('*') ? '*' : [...origins],
    // PATCH and DELETE are the admin API's (users, images, keys), called with an admin key.
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Prefer', 'x-request-id'],
    // Without this list a browser hides every header but a handful from the calling script.
    exposedHeaders: [
      'Location',
      'Retry-After',
      'Idempotent-Replayed',
      'Preference-Applied',
      'x-request-id',
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
    ],
    credentials: false,
    // Browsers may reuse a preflight answer this long (seconds); Chrome caps it at two hours.
    maxAge: 600,
  };
}
