import { ProviderCallError, type ProviderFailureKind, parseRetryAfter } from '../provider-error.ts';
import { predictionErrorText, type ReplicatePrediction } from './replicate-api.ts';

const provider = 'replicate';
const longestDetail = 300;

/**
 * The `replicate` client's ApiError (thrown for any non-2xx answer). The package declares it only as a
 * type and does not export the class, so it is recognised by name and shape.
 */
interface ReplicateApiError extends Error {
  response: Response;
}

function isApiError(error: unknown): error is ReplicateApiError {
  if (!(error instanceof Error) || error.name !== 'ApiError' || !('response' in error)) return false;
  const { response } = error as { response: unknown };
  return (
    typeof response === 'object' && response !== null && typeof (response as Response).status === 'number'
  );
}

/**
 * Turns whatever a Replicate call threw into a ProviderCallError:
 * - an HTTP answer: 429 → rate_limited (with Retry-After), 401/403 → credentials, 408 → timeout,
 *   5xx → unavailable, any other 4xx (400, 404, 422…) → rejected;
 * - TimeoutError / AbortError (our attempt's signal fired) → timeout;
 * - TypeError (what fetch throws when the connection fails) → network;
 * - SyntaxError (a body that is not JSON) → malformed;
 * - anything else is an error we cannot explain, and retrying it would only repeat it → malformed.
 * The caller's own abort never reaches here: callWithRetries rethrows it as it came.
 */
export function classifyReplicateError(error: unknown, now: Date = new Date()): ProviderCallError {
  if (error instanceof ProviderCallError) return error;
  if (isApiError(error)) {
    const { status, headers } = error.response;
    const detail = `Replicate answered ${status}: ${shorten(error.message)}`;
    return new ProviderCallError(kindForStatus(status), detail, {
      provider,
      status,
      retryAfterSeconds: status === 429 ? parseRetryAfter(headers.get('retry-after'), now) : undefined,
      cause: error,
    });
  }
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
      return new ProviderCallError('timeout', `Replicate call timed out: ${error.message}`, {
        provider,
        cause: error,
      });
    }
    if (error instanceof TypeError) {
      return new ProviderCallError('network', `Replicate could not be reached: ${describe(error)}`, {
        provider,
        cause: error,
      });
    }
    if (error instanceof SyntaxError) {
      return new ProviderCallError('malformed', `Replicate sent a body that is not JSON: ${error.message}`, {
        provider,
        cause: error,
      });
    }
  }
  return new ProviderCallError(
    'malformed',
    `Unexpected error from the Replicate client: ${describe(error)}`,
    {
      provider,
      cause: error,
    },
  );
}

function kindForStatus(status: number): ProviderFailureKind {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'credentials';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'unavailable';
  return 'rejected';
}

/** A safety system refused the prompt or the image: Flux's checker, BFL's moderation (E005), others alike. */
const safetyPattern =
  /nsfw|flagged as sensitive|content polic|content moderation|moderation flagged|safety (?:filter|checker|system)|\bE005\b/i;

/**
 * A failure of Replicate's machinery rather than of our input: an unknown error (E1000), a prediction that
 * could not start in time (E6716), an interrupted one ("Prediction interrupted; please retry (code: PA)"),
 * timeouts, a GPU fault, capacity.
 */
const transientPattern =
  /\bE1000\b|\bE6716\b|interrupted|please retry|timed? ?out|temporar|unavailable|capacity|internal (?:server )?error|connection (?:reset|refused|error)|cuda error/i;

/**
 * Why a prediction ended without images. The rule:
 * 1. canceled or aborted (by someone other than this call, or by Replicate itself) → unavailable;
 * 2. the error mentions NSFW, sensitive content, a content policy or moderation → safety;
 * 3. no error text at all, or one that reads as Replicate's own trouble (see transientPattern) → unavailable,
 *    so another prediction is tried;
 * 4. anything else (a model error about its input, out of memory, …) → rejected: the same input would fail
 *    the same way, and each try costs money.
 */
export function classifyFailedPrediction(prediction: ReplicatePrediction): ProviderCallError {
  const text = predictionErrorText(prediction);
  const details = { provider, cause: prediction.error };
  if (prediction.status === 'canceled' || prediction.status === 'aborted') {
    return new ProviderCallError(
      'unavailable',
      `Replicate prediction ${prediction.id} was ${prediction.status}`,
      details,
    );
  }
  const message = `Replicate prediction ${prediction.id} failed: ${text === undefined ? '(no error given)' : shorten(text)}`;
  if (text !== undefined && safetyPattern.test(text))
    return new ProviderCallError('safety', message, details);
  if (text === undefined || transientPattern.test(text))
    return new ProviderCallError('unavailable', message, details);
  return new ProviderCallError('rejected', message, details);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return shorten(String(error));
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return shorten(`${error.name}: ${error.message}${cause}`);
}

function shorten(text: string): string {
  return text.length > longestDetail ? `${text.slice(0, longestDetail)}…` : text;
}
