import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ProviderCallError, type ProviderFailureKind, parseRetryAfter } from '../provider-error.ts';

const provider = 'openai';

/** `error.code` values for a prompt or image OpenAI's safety system refused (DALL·E, GPT image models). */
const safetyCodes = new Set(['content_policy_violation', 'moderation_blocked']);

/**
 * 429 codes (or types) that mean the account is out of credit or over a spend limit. Waiting will not
 * help, so they are not `rate_limited`; the operator must add credit or raise a limit, which is what
 * `credentials` means ("the operator must act; another provider may serve").
 */
const billingCodes = new Set([
  'insufficient_quota',
  'billing_hard_limit_reached',
  'credit_balance_exhausted',
  'organization_spend_limit_exceeded',
  'project_spend_limit_exceeded',
  'organization_usage_limit_exceeded',
]);

/** Turns whatever the OpenAI SDK threw into a ProviderCallError; nothing above the adapter sees it raw. */
export function classifyOpenAIError(error: unknown, now: Date = new Date()): ProviderCallError {
  if (error instanceof ProviderCallError) return error;
  // callWithRetries wraps an attempt that its own signal cut short in an Error named TimeoutError.
  if (error instanceof Error && error.name === 'TimeoutError') {
    return failure('timeout', 'the OpenAI request timed out', error);
  }
  // Check the subclasses first: the timeout error is a connection error, and both are APIErrors.
  if (error instanceof APIConnectionTimeoutError) {
    return failure('timeout', 'the OpenAI request timed out', error);
  }
  // Only our per-attempt signal aborts a request (the caller's abort is rethrown before classifying).
  if (error instanceof APIUserAbortError) {
    return failure('timeout', 'the OpenAI request was aborted', error);
  }
  if (error instanceof APIConnectionError) {
    return failure('network', `could not reach OpenAI: ${causeOf(error)}`, error);
  }
  if (error instanceof APIError) return classifyStatus(error, now);
  // The SDK parses a JSON body with response.json(); a broken body surfaces as a SyntaxError.
  if (error instanceof SyntaxError) {
    return failure('malformed', `OpenAI sent a response that is not valid JSON: ${error.message}`, error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return failure('unavailable', `the OpenAI call failed: ${message}`, error);
}

function classifyStatus(error: APIError, now: Date): ProviderCallError {
  const status = error.status ?? 0;
  const code = error.code ?? undefined;
  const detail = `OpenAI answered ${status}${code ? ` (${code})` : ''}: ${error.message}`;
  const details = { status };

  if (status === 401 || status === 403) return failure('credentials', detail, error, details);
  if (status === 429) {
    if (isBillingError(error)) return failure('credentials', detail, error, details);
    return failure('rate_limited', detail, error, { ...details, retryAfterSeconds: retryAfter(error, now) });
  }
  if (status === 408) return failure('timeout', detail, error, details);
  if (status >= 500) {
    return failure('unavailable', detail, error, { ...details, retryAfterSeconds: retryAfter(error, now) });
  }
  if (code !== undefined && safetyCodes.has(code)) return failure('safety', detail, error, details);
  // 409 is lock contention on OpenAI's side; the SDK retries it too.
  if (status === 409) return failure('unavailable', detail, error, details);
  return failure('rejected', detail, error, details);
}

function isBillingError(error: APIError): boolean {
  return (
    (error.code !== null && error.code !== undefined && billingCodes.has(error.code)) ||
    (error.type !== undefined && billingCodes.has(error.type))
  );
}

/** `retry-after-ms` (OpenAI's, and what the SDK itself prefers) before the standard `retry-after`. */
function retryAfter(error: APIError, now: Date): number | undefined {
  const milliseconds = Number.parseFloat(error.headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds / 1000;
  return parseRetryAfter(error.headers?.get('retry-after'), now);
}

function causeOf(error: APIConnectionError): string {
  const cause = error.cause;
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : '';
    return `${cause.message}${inner}`;
  }
  return error.message;
}

function failure(
  kind: ProviderFailureKind,
  message: string,
  cause: unknown,
  details: { status?: number; retryAfterSeconds?: number | undefined } = {},
): ProviderCallError {
  return new ProviderCallError(kind, message, { provider, ...details, cause });
}
