import { ImagineError } from './imagine-error.ts';

/** How long a caller refused for an unreachable database should wait: a failover or restart takes seconds. */
export const databaseRetryAfterSeconds = 5;

// postgres.js's own codes for a connection it lost or could not open.
const driverCodes = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
]);
// SQLSTATEs of a server that is there but will not serve: connection exceptions (class 08), shutting down
// or starting up (57P01–57P03), out of connections (53300), the database gone (3D000).
const serverCodes = /^(08[0-9A-Z]{3}|57P0[1-3]|53300|3D000)$/;
// A socket that could not reach the host at all.
const connectCodes = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether `error` says the database server cannot be reached or will not serve, rather than a bug. A raw
 * connect failure counts: providers and S3 turn theirs into coded errors and Redis fails open, so one that
 * reaches a caller uncoded came from the database pool.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (ImagineError.isInstance(error)) return error.code === 'database_unavailable';
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  if (typeof code !== 'string') return false;
  if (driverCodes.has(code) || serverCodes.test(code)) return true;
  return connectCodes.has(code) && (syscall === 'connect' || syscall === 'getaddrinfo');
}

/** The contract's 503 for a database that cannot be reached, keeping the driver's error as the cause for logs. */
export function databaseUnavailable(cause: unknown): ImagineError {
  if (ImagineError.isInstance(cause) && cause.code === 'database_unavailable') return cause;
  return new ImagineError(
    'database_unavailable',
    undefined,
    { retry_after: databaseRetryAfterSeconds },
    { cause },
  );
}
