import type { RetryPolicy } from './call-with-retries.ts';
import { fetchExchange, type HttpAnswer, keepAliveExchange } from './keep-alive-exchange.ts';
import { ProviderCallError, type ProviderFailureKind, parseRetryAfter } from './provider-error.ts';

/**
 * How hard to try a self-hosted server before falling back: the whole call within the entry's
 * `timeout_ms`, and one retry after a refused connection or a 5xx. A GPU box that is down stays down for
 * longer than a backoff, and a render that timed out would only time out again, so more tries would just
 * keep the caller waiting for the fallback.
 */
export function selfHostedRetryPolicy(timeoutMs: number): RetryPolicy {
  return { deadlineMs: timeoutMs, attemptTimeoutMs: timeoutMs, initialDelayMs: 500, maxRetries: 1 };
}

/** Where a variable named by MODELS_FILE (`username_env`, `api_key_env`) is read, at call time. */
export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/** What a readiness probe found: whether the model can take work now, and why not, for operators. */
export interface ProbeResult {
  ready: boolean;
  detail: string;
}

/**
 * A secret from the variable an entry names (`api_key_env`), read at call time so the message can say
 * which variable to set. Throws ProviderCallError('credentials') when it is unset or empty.
 */
export function readSecret(env: EnvironmentVariables, name: string, provider: string): string {
  const value = env[name];
  if (!value) throw new ProviderCallError('credentials', `${name} is not set`, { provider });
  return value;
}

/** `base_url` without trailing slashes, so paths can be appended to it. */
export function trimTrailingSlashes(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/** One JSON exchange with a self-hosted server (A1111, an OpenAI-compatible server). */
export interface JsonRequest {
  provider: string;
  method: 'GET' | 'POST';
  url: string;
  /** Sent as JSON when present. */
  body?: unknown;
  headers?: Record<string, string>;
  signal: AbortSignal;
  /** Undefined: node:http over shared keep-alive connections (keepAliveExchange), the fast path. */
  fetch?: typeof globalThis.fetch | undefined;
  /** A provider's own reading of an error answer (a safety code in a 400), before the status rule. */
  kindOf?: (status: number, body: unknown) => ProviderFailureKind | undefined;
}

const longestDetail = 200;

/**
 * Sends `request` and returns the parsed JSON body of a 2xx answer. Throws ProviderCallError: an answer
 * by its status (see failureKindForStatus), a connection that fails as `network`, a body that is not JSON
 * as `malformed`. An abort of `request.signal` is rethrown as it came, so callWithRetries can tell its
 * own timeout from the caller leaving.
 */
export async function requestJson(request: JsonRequest): Promise<unknown> {
  const { provider, signal } = request;
  const exchange = request.fetch ? fetchExchange(request.fetch) : keepAliveExchange;
  let answer: HttpAnswer;
  try {
    answer = await exchange(request.url, {
      method: request.method,
      headers: {
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...request.headers,
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ProviderCallError('network', `${provider} could not be reached: ${describeError(error)}`, {
      provider,
      cause: error,
    });
  }
  const { status, text } = answer;
  const body = parseJson(text);
  if (status < 200 || status >= 300) {
    const kind = request.kindOf?.(status, body) ?? failureKindForStatus(status);
    const detail = errorDetail(body);
    throw new ProviderCallError(kind, `${provider} answered ${status}${detail ? `: ${detail}` : ''}`, {
      provider,
      status,
      retryAfterSeconds:
        status === 429 || status === 503 ? parseRetryAfter(answer.header('retry-after') ?? null) : undefined,
    });
  }
  if (body === undefined) {
    throw new ProviderCallError('malformed', `${provider} answered ${status} with a body that is not JSON`, {
      provider,
      status,
    });
  }
  return body;
}

/**
 * What an HTTP status means for retrying and routing: 401/403 credentials, 429 rate_limited, 408 timeout,
 * 5xx unavailable (a GPU box that is restarting or out of memory falls back like a cloud outage), any
 * other 4xx rejected.
 */
export function failureKindForStatus(status: number): ProviderFailureKind {
  if (status === 401 || status === 403) return 'credentials';
  if (status === 429) return 'rate_limited';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'unavailable';
  return 'rejected';
}

/**
 * For callWithRetries' `classify`: what reaches it is not yet a ProviderCallError, which is an attempt its
 * own signal cut short (TimeoutError) or something unexpected (treated as `malformed`, since retrying would
 * only repeat it).
 */
export function classifyHttpError(provider: string): (error: unknown) => ProviderCallError {
  return (error) => {
    if (error instanceof ProviderCallError) return error;
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return new ProviderCallError('timeout', `${provider} did not answer in time`, {
        provider,
        cause: error,
      });
    }
    return new ProviderCallError('malformed', `${provider} call failed: ${describeError(error)}`, {
      provider,
      cause: error,
    });
  };
}

/** `Basic` credentials for HTTP Basic auth (A1111's `--api-auth`). */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

const dataUrlPrefix = /^data:image\/[a-z]+;base64,/;
/** A character that is neither base64's nor its padding, found by a search that never backtracks. */
const notBase64OrPadding = /[^A-Za-z0-9+/=]/;

/**
 * The bytes of a base64 image in a JSON answer (a `data:` prefix, which some forks add, is dropped).
 * Buffer.from skips characters that are not base64, so a garbled string is refused here rather than
 * decoded into garbage: ProviderCallError('malformed').
 */
export function decodeBase64Image(text: string, provider: string): Uint8Array {
  const base64 = text.replace(dataUrlPrefix, '');
  if (!isBase64(base64)) {
    throw new ProviderCallError('malformed', `${provider} sent an image that is not base64`, { provider });
  }
  return Buffer.from(base64, 'base64');
}

/**
 * Whether `text` is base64 characters followed by at most two `=`, as `/^[A-Za-z0-9+/]+={0,2}$/` says. That
 * anchored pattern backtracks through the whole string: ~15 ms for a 1024² PNG (1.5 MB of base64), several
 * times the rest of the answer's handling; this is a few times quicker, and quicker for a small one too.
 */
function isBase64(text: string): boolean {
  if (notBase64OrPadding.test(text)) return false;
  const padding = text.indexOf('=');
  if (padding === -1) return text.length > 0;
  // Padding only at the end, at most two, after at least one character.
  return padding > 0 && text.length - padding <= 2 && text.charCodeAt(text.length - 1) === 0x3d;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A short reason from an error body, for operators' logs: FastAPI's `detail` (A1111), A1111's exception
 * name (`error`), or OpenAI's `error.message`/`error.code`. Never the whole body: A1111 echoes the request,
 * prompt included, in its 500 answers.
 */
function errorDetail(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { error, detail } = body as { error?: unknown; detail?: unknown };
  const parts: string[] = [];
  if (typeof error === 'string') parts.push(error);
  if (typeof error === 'object' && error !== null) {
    const { message, code } = error as { message?: unknown; code?: unknown };
    if (typeof code === 'string') parts.push(`(${code})`);
    if (typeof message === 'string') parts.push(message);
  }
  if (typeof detail === 'string') parts.push(detail);
  if (Array.isArray(detail)) {
    const first = detail[0] as { msg?: unknown } | undefined;
    if (typeof first?.msg === 'string') parts.push(first.msg);
  }
  const text = parts.join(' ');
  if (text === '') return undefined;
  return text.length > longestDetail ? `${text.slice(0, longestDetail)}…` : text;
}

/** Message and errno code, from undici's `TypeError('fetch failed', { cause })` (node:http's message has it). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return `${error.message}${code}`;
}
