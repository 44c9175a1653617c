/**
 * The response headers the API sets, to spread into a `documented()` response. Each is a JSON schema with a
 * description, the form @fastify/swagger turns into an OpenAPI header object.
 */
export const responseHeaders = {
  /** Every response has it; `openapiTransformObject` adds it to each one. */
  requestId: {
    'x-request-id': {
      type: 'string',
      description: "This request's id: the caller's own when it sent a safe one, else a new UUID",
    },
  },
  retryAfter: {
    'Retry-After': { type: 'integer', description: 'Seconds to wait before trying again' },
  },
  rateLimit: {
    'x-ratelimit-limit': { type: 'integer', description: 'Requests allowed a minute' },
    'x-ratelimit-remaining': { type: 'integer', description: 'Requests left this minute' },
    'x-ratelimit-reset': { type: 'integer', description: 'Seconds until the minute starts again' },
  },
  location: {
    Location: { type: 'string', description: "The job's status URL, as `status_url`" },
  },
  preferenceApplied: {
    'Preference-Applied': { type: 'string', description: '`respond-async`' },
  },
  idempotentReplayed: {
    'Idempotent-Replayed': {
      type: 'string',
      enum: ['true'],
      description:
        'Present when this is the stored answer to an earlier request with the same Idempotency-Key',
    },
  },
} as const;
