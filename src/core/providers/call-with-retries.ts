import pRetry from 'p-retry';
import { isRetryableFailure, ProviderCallError } from './provider-error.ts';

/** How hard to try one provider before giving up (and letting routing fall back). */
export interface RetryPolicy {
  /** The whole call, every attempt and wait included (default 60 s). */
  deadlineMs: number;
  /** One attempt (one HTTP exchange, or one prediction's polling). */
  attemptTimeoutMs: number;
  /** First backoff; doubles each retry, with jitter. */
  initialDelayMs: number;
  maxRetries: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  deadlineMs: 60_000,
  attemptTimeoutMs: 55_000,
  initialDelayMs: 500,
  maxRetries: 4,
};

/**
 * Runs `attempt` until it succeeds, fails for good, or the deadline passes. 429 waits for the provider's
 * Retry-After; 5xx, timeouts and network errors back off exponentially with jitter; anything else (a 4xx,
 * a safety refusal, bad credentials) is not retried. Each attempt gets a signal that fires on its own
 * timeout, the overall deadline, or the caller going away; the caller's abort is rethrown as it came.
 * Every failure reaches the caller as a ProviderCallError (`classify` turns the client's errors into one).
 */
export async function callWithRetries<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  options: {
    policy: RetryPolicy;
    classify: (error: unknown) => ProviderCallError;
    abortSignal: AbortSignal | undefined;
    onRetry?: (error: ProviderCallError, attemptNumber: number) => void;
  },
): Promise<T> {
  const { policy, classify, abortSignal } = options;
  const deadline = AbortSignal.timeout(policy.deadlineMs);
  const overall = abortSignal ? AbortSignal.any([abortSignal, deadline]) : deadline;
  const startedAt = performance.now();
  const remainingMs = () => policy.deadlineMs - (performance.now() - startedAt);

  try {
    return await pRetry(
      async () => {
        const signal = AbortSignal.any([overall, AbortSignal.timeout(policy.attemptTimeoutMs)]);
        try {
          // Raced against the signal: an attempt that ignores its signal still cannot outlive it.
          return await settleBeforeAbort(attempt(signal), signal);
        } catch (error) {
          if (abortSignal?.aborted) throw abortSignal.reason;
          if (error instanceof ProviderCallError) throw error;
          throw classify(signal.aborted ? timeoutError(error) : error);
        }
      },
      {
        retries: policy.maxRetries,
        minTimeout: policy.initialDelayMs,
        factor: 2,
        randomize: true,
        maxRetryTime: policy.deadlineMs,
        signal: overall,
        shouldRetry: ({ error }) => error instanceof ProviderCallError && isRetryableFailure(error.kind),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!(error instanceof ProviderCallError) || !isRetryableFailure(error.kind) || retriesLeft === 0)
            return;
          options.onRetry?.(error, attemptNumber);
          // Honour the provider's Retry-After before p-retry's own (short) backoff; if it is past the
          // deadline, give up now and pass the wait on to the user instead.
          const waitMs = (error.retryAfterSeconds ?? 0) * 1000;
          if (waitMs <= 0) return;
          if (waitMs >= remainingMs()) throw error;
          await abortableDelay(waitMs, overall);
        },
      },
    );
  } catch (error) {
    if (abortSignal?.aborted) throw abortSignal.reason;
    if (error instanceof ProviderCallError) throw error;
    // The deadline fired while p-retry was waiting between attempts.
    throw classify(timeoutError(error));
  }
}

function settleBeforeAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function timeoutError(cause: unknown): Error {
  const error = new Error('the provider call timed out', { cause });
  error.name = 'TimeoutError';
  return error;
}

function abortableDelay(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
