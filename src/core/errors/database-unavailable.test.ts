import { describe, expect, it } from 'vitest';
import { databaseUnavailable, isDatabaseUnreachable } from './database-unavailable.ts';
import { ImagineError } from './imagine-error.ts';

const coded = (code: string, extra: object = {}) => Object.assign(new Error(code), { code, ...extra });

describe('isDatabaseUnreachable', () => {
  it('knows a database that cannot be reached or will not serve', () => {
    for (const error of [
      coded('ECONNREFUSED', { syscall: 'connect' }),
      coded('ENOTFOUND', { syscall: 'getaddrinfo' }),
      coded('CONNECTION_CLOSED'),
      coded('CONNECT_TIMEOUT'),
      coded('08006'),
      coded('57P01'),
      coded('53300'),
      coded('3D000'),
      databaseUnavailable(new Error('gone')),
    ]) {
      expect(isDatabaseUnreachable(error), String(error.message)).toBe(true);
    }
  });

  it('leaves bugs, refusals and other failures alone', () => {
    for (const error of [
      new Error('a bug'),
      coded('23505'), // a unique violation: the code's mistake, not an outage
      coded('ECONNRESET', { syscall: 'read' }),
      coded('SQLITE_FULL'),
      new ImagineError('generation_failed'),
      undefined,
    ]) {
      expect(isDatabaseUnreachable(error)).toBe(false);
    }
  });

  it('becomes the contract 503 with a retry time, keeping the cause for logs', () => {
    const cause = coded('ECONNREFUSED', { syscall: 'connect' });
    const error = databaseUnavailable(cause);
    expect(error).toMatchObject({
      code: 'database_unavailable',
      httpStatus: 503,
      context: { retry_after: 5 },
    });
    expect(error.cause).toBe(cause);
  });
});
