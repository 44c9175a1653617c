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
  options: RetryOptions,
): Promise<T> {
  const { policy, classify, abortSignal } = options;
  // Timers cleared when the call settles, rather than AbortSignal.timeout and AbortSignal.any: in Node 20
  // those two cost ~50 µs a call between them (weakly held timers, transferable signals), a fifth of an
  // A1111 call's own CPU in `npm run bench -- --selfhosted`.
  const overall = new AbortController();
  const deadlineTimer = abortAfter(overall, policy.deadlineMs);
  const callerLeft = abortSignal && new AbortRelay(abortSignal, overall);
  if (abortSignal?.aborted) overall.abort(abortSignal.reason);
  else if (callerLeft) abortSignal?.addEventListener('abort', callerLeft, { once: true });
  const startedAt = performance.now();

  try {
    // The first attempt runs without p-retry (its options, validation and loop cost ~6 µs a call, a
    // measurable share of an A1111 call on a fast GPU): most calls succeed, and nothing needs retrying.
    let firstFailure: unknown;
    try {
      // As p-retry would: a call the caller left before it began is not attempted at all.
      overall.signal.throwIfAborted();
      const value = await attemptOnce(attempt, options, overall.signal, startedAt);
      overall.signal.throwIfAborted();
      return value;
    } catch (error) {
      firstFailure = error;
    }
    // After a failure, p-retry as before: its first attempt hands it the failure just seen, so its
    // counting, backoff and Retry-After handling are those of a call it had made from the start.
    let replayed = false;
    return await pRetry(
      () => {
        if (replayed) return attemptOnce(attempt, options, overall.signal, startedAt);
        replayed = true;
        throw firstFailure;
      },
      {
        retries: policy.maxRetries,
        minTimeout: policy.initialDelayMs,
        factor: 2,
        randomize: true,
        // p-retry starts its clock now, after the first attempt: what is left of the deadline.
        maxRetryTime: Math.max(0, msLeft(policy, startedAt)),
        signal: overall.signal,
        shouldRetry: ({ error }) => error instanceof ProviderCallError && isRetryableFailure(error.kind),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!(error instanceof ProviderCallError) || !isRetryableFailure(error.kind) || retriesLeft === 0)
            return;
          options.onRetry?.(error, attemptNumber);
          // Honour the provider's Retry-After before p-retry's own (short) backoff; if it is past the
          // deadline, give up now and pass the wait on to the user instead.
          const waitMs = (error.retryAfterSeconds ?? 0) * 1000;
          if (waitMs <= 0) return;
          if (waitMs >= msLeft(policy, startedAt)) throw error;
          await abortableDelay(waitMs, overall.signal);
        },
      },
    );
  } catch (error) {
    if (abortSignal?.aborted) throw abortSignal.reason;
    if (error instanceof ProviderCallError) throw error;
    // The deadline fired while p-retry was waiting between attempts.
    throw classify(timeoutError(error));
  } finally {
    clearTimeout(deadlineTimer);
    if (callerLeft) abortSignal?.removeEventListener('abort', callerLeft);
  }
}

/** What callWithRetries is told besides the attempt. */
interface RetryOptions {
  policy: RetryPolicy;
  classify: (error: unknown) => ProviderCallError;
  abortSignal: AbortSignal | undefined;
  onRetry?: (error: ProviderCallError, attemptNumber: number) => void;
}

/**
 * One attempt, under a signal that fires on its own timeout (when that comes before the deadline) or when
 * `overall` does. Functions and listener objects made once, not closures made per call: under tsx
 * (`npm start`, the benchmarks) esbuild wraps each named closure in `__name`, ~0.7 µs apiece.
 */
async function attemptOnce<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  { policy, classify, abortSignal }: RetryOptions,
  overall: AbortSignal,
  startedAt: number,
): Promise<T> {
  // An attempt whose own timeout would reach past the deadline needs no timer: the deadline ends it.
  const own = policy.attemptTimeoutMs < msLeft(policy, startedAt) ? new AbortController() : undefined;
  const attemptTimer = own && abortAfter(own, policy.attemptTimeoutMs);
  const overallEnded = own && new AbortRelay(overall, own);
  if (overall.aborted) own?.abort(overall.reason);
  else if (overallEnded) overall.addEventListener('abort', overallEnded, { once: true });
  const signal = own?.signal ?? overall;
  try {
    // Raced against the signal: an attempt that ignores its signal still cannot outlive it.
    return await settleBeforeAbort(attempt(signal), signal);
  } catch (error) {
    if (abortSignal?.aborted) throw abortSignal.reason;
    if (error instanceof ProviderCallError) throw error;
    throw classify(signal.aborted ? timeoutError(error) : error);
  } finally {
    clearTimeout(attemptTimer);
    if (overallEnded) overall.removeEventListener('abort', overallEnded);
  }
}

/** What is left of the call's deadline. */
function msLeft(policy: RetryPolicy, startedAt: number): number {
  return policy.deadlineMs - (performance.now() - startedAt);
}

/** Aborts `to` with the reason of `from`'s abort: a listener object, cheaper than a closure per call. */
class AbortRelay {
  readonly #from: AbortSignal;
  readonly #to: AbortController;

  constructor(from: AbortSignal, to: AbortController) {
    this.#from = from;
    this.#to = to;
  }

  handleEvent(): void {
    this.#to.abort(this.#from.reason);
  }
}

/** Aborts `controller` with a TimeoutError (as AbortSignal.timeout would) after `milliseconds`. */
function abortAfter(controller: AbortController, milliseconds: number): NodeJS.Timeout {
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    milliseconds,
  );
  // As AbortSignal.timeout's: a pending call's timer does not keep the process alive.
  timer.unref();
  return timer;
}

function settleBeforeAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const aborted = new RejectOnAbort(signal, reject);
    signal.addEventListener('abort', aborted, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', aborted);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', aborted);
        reject(error);
      },
    );
  });
}

/** Rejects with the abort's reason (a listener object, as AbortRelay). */
class RejectOnAbort {
  readonly #signal: AbortSignal;
  readonly #reject: (reason: unknown) => void;

  constructor(signal: AbortSignal, reject: (reason: unknown) => void) {
    this.#signal = signal;
    this.#reject = reject;
  }

  handleEvent(): void {
    this.#reject(this.#signal.reason);
  }
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
