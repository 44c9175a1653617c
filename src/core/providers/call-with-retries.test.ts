import { describe, expect, it } from 'vitest';
import { callWithRetries, type RetryPolicy } from './call-with-retries.ts';
import { ProviderCallError } from './provider-error.ts';

const fast: RetryPolicy = { deadlineMs: 2_000, attemptTimeoutMs: 1_000, initialDelayMs: 5, maxRetries: 4 };

/** Errors the scripted attempts throw are already classified; anything else is a network failure. */
const classify = (error: unknown) =>
  error instanceof ProviderCallError
    ? error
    : new ProviderCallError(
        error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'network',
        String(error),
        { provider: 'test' },
      );

function failing(kind: ProviderCallError['kind'], retryAfterSeconds?: number) {
  return new ProviderCallError(kind, `scripted ${kind}`, { provider: 'test', retryAfterSeconds });
}

async function run<T>(attempts: Array<() => T>, policy = fast, abortSignal?: AbortSignal) {
  let calls = 0;
  const startedAt = performance.now();
  const outcome = await callWithRetries(
    async () => {
      const next = attempts[Math.min(calls, attempts.length - 1)];
      calls++;
      return (next as () => T)();
    },
    { policy, classify, abortSignal },
  ).then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  return { ...outcome, calls, elapsedMs: performance.now() - startedAt };
}

describe('callWithRetries', () => {
  it('retries a 5xx and returns the first success', async () => {
    const outcome = await run([
      () => {
        throw failing('unavailable');
      },
      () => 'image',
    ]);
    expect(outcome).toMatchObject({ value: 'image', calls: 2 });
  });

  it("waits for a 429's Retry-After before trying again", async () => {
    const outcome = await run([
      () => {
        throw failing('rate_limited', 0.3);
      },
      () => 'image',
    ]);
    expect(outcome.value).toBe('image');
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(290);
  });

  it('gives up at once when Retry-After is past the deadline, passing the wait on', async () => {
    const outcome = await run([
      () => {
        throw failing('rate_limited', 120);
      },
    ]);
    expect(outcome.calls).toBe(1);
    expect(outcome.error).toMatchObject({ kind: 'rate_limited', retryAfterSeconds: 120 });
    expect(outcome.elapsedMs).toBeLessThan(500);
  });

  it('does not retry a request the provider rejected, a safety refusal or bad credentials', async () => {
    for (const kind of ['rejected', 'safety', 'credentials'] as const) {
      const outcome = await run([
        () => {
          throw failing(kind);
        },
      ]);
      expect(outcome.calls, kind).toBe(1);
      expect(outcome.error, kind).toMatchObject({ kind });
    }
  });

  it('stops at the deadline and reports a timeout', async () => {
    const outcome = await run([() => new Promise<string>(() => {})], {
      deadlineMs: 150,
      attemptTimeoutMs: 60,
      initialDelayMs: 5,
      maxRetries: 10,
    });
    expect(outcome.error).toMatchObject({ kind: 'timeout' });
    expect(outcome.elapsedMs).toBeLessThan(1_000);
  });

  it("rethrows the caller's abort as it came, without retrying", async () => {
    const controller = new AbortController();
    const reason = new Error('client went away');
    setTimeout(() => controller.abort(reason), 30);
    const outcome = await run([() => new Promise<string>(() => {})], fast, controller.signal);
    expect(outcome.error).toBe(reason);
    expect(outcome.calls).toBe(1);
  });

  it('makes no attempt for a caller who left before the call began', async () => {
    const controller = new AbortController();
    const reason = new Error('client went away');
    controller.abort(reason);
    const outcome = await run([() => 'never asked'], fast, controller.signal);
    expect(outcome.error).toBe(reason);
    expect(outcome.calls).toBe(0);
  });

  it('counts the first failure among the retries, as p-retry would had it made that attempt', async () => {
    const outcome = await run<Promise<string>>(
      [
        () => Promise.reject(failing('unavailable')),
        () => Promise.reject(failing('unavailable')),
        async () => 'third time',
      ],
      { ...fast, maxRetries: 1 },
    );
    expect(outcome.error).toMatchObject({ kind: 'unavailable' });
    expect(outcome.calls).toBe(2);
  });
});
