import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { describe, expect, it } from 'vitest';
import { ProviderCallError } from '../provider-error.ts';
import { classifyOpenAIError } from './openai-error.ts';

const now = new Date('2025-03-01T12:00:00.000Z');

/** The error the SDK builds for an HTTP error response (the same factory its client uses). */
function statusError(status: number, body: { code?: string | null; type?: string }, headers = {}): APIError {
  return APIError.generate(
    status,
    { error: { message: 'from OpenAI', param: null, code: null, ...body } },
    undefined,
    new Headers(headers),
  );
}

describe('classifyOpenAIError', () => {
  it.each([
    [401, {}, 'credentials'],
    [403, { code: 'unsupported_country_region_territory' }, 'credentials'],
    [429, { code: 'rate_limit_exceeded', type: 'requests' }, 'rate_limited'],
    [429, { code: 'insufficient_quota', type: 'insufficient_quota' }, 'credentials'],
    [429, { code: 'credit_balance_exhausted', type: 'insufficient_quota' }, 'credentials'],
    [429, { code: null, type: 'insufficient_quota' }, 'credentials'],
    [500, { type: 'server_error' }, 'unavailable'],
    [503, {}, 'unavailable'],
    [408, {}, 'timeout'],
    [409, {}, 'unavailable'],
    [400, { code: 'content_policy_violation' }, 'safety'],
    [400, { code: 'moderation_blocked', type: 'image_generation_user_error' }, 'safety'],
    [400, { code: 'unknown_parameter' }, 'rejected'],
    [404, { code: 'model_not_found' }, 'rejected'],
    [422, {}, 'rejected'],
  ] as const)('classifies %i %o as %s', (status, body, kind) => {
    const error = classifyOpenAIError(statusError(status, body), now);

    expect(error).toBeInstanceOf(ProviderCallError);
    expect(error).toMatchObject({ kind, provider: 'openai', status });
  });

  it('reads retry-after-ms before retry-after', () => {
    const error = classifyOpenAIError(
      statusError(429, { code: 'rate_limit_exceeded' }, { 'retry-after-ms': '1500', 'retry-after': '20' }),
      now,
    );
    expect(error.retryAfterSeconds).toBe(1.5);
  });

  it('reads retry-after as seconds or as an HTTP date', () => {
    const seconds = classifyOpenAIError(statusError(429, {}, { 'retry-after': '7' }), now);
    const date = classifyOpenAIError(
      statusError(503, {}, { 'retry-after': 'Sat, 01 Mar 2025 12:00:30 GMT' }),
      now,
    );
    const none = classifyOpenAIError(statusError(429, {}), now);

    expect(seconds.retryAfterSeconds).toBe(7);
    expect(date).toMatchObject({ kind: 'unavailable', retryAfterSeconds: 30 });
    expect(none.retryAfterSeconds).toBeUndefined();
  });

  it('keeps the SDK error as the cause and puts status and code in the operator message', () => {
    const original = statusError(400, { code: 'content_policy_violation' });
    const error = classifyOpenAIError(original, now);

    expect(error.cause).toBe(original);
    expect(error.message).toContain('400 (content_policy_violation)');
  });

  it('classifies connection failures and timeouts', () => {
    const refused = new APIConnectionError({ cause: new TypeError('fetch failed') });
    const timeout = new Error('the provider call timed out');
    timeout.name = 'TimeoutError';

    expect(classifyOpenAIError(refused, now).kind).toBe('network');
    expect(classifyOpenAIError(new APIConnectionTimeoutError(), now).kind).toBe('timeout');
    expect(classifyOpenAIError(new APIUserAbortError(), now).kind).toBe('timeout');
    expect(classifyOpenAIError(timeout, now).kind).toBe('timeout');
  });

  it('classifies a body that is not JSON as malformed and anything else as unavailable', () => {
    expect(classifyOpenAIError(new SyntaxError('Unexpected token <'), now).kind).toBe('malformed');
    expect(classifyOpenAIError(new Error('socket hang up'), now).kind).toBe('unavailable');
  });

  it('passes a ProviderCallError through unchanged', () => {
    const original = new ProviderCallError('malformed', 'no image', { provider: 'openai' });
    expect(classifyOpenAIError(original, now)).toBe(original);
  });
});
