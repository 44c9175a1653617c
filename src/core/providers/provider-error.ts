import { ImagineError } from '../errors/imagine-error.ts';

/**
 * How a provider call failed, in the terms retrying and routing care about. Each vendor's adapter turns its
 * client's errors into one of these; nothing above the adapter sees a vendor's raw error.
 */
export type ProviderFailureKind =
  /** 429: retry after the provider's Retry-After. */
  | 'rate_limited'
  /** 5xx or the provider says it is down: retry, then fall back. */
  | 'unavailable'
  /** The attempt took longer than its timeout. */
  | 'timeout'
  /** The connection failed (reset, DNS, refused). */
  | 'network'
  /** No or bad credentials: the operator must act; another provider may serve. */
  | 'credentials'
  /** A safety system refused the prompt or the image. */
  | 'safety'
  /** A 4xx other than 429: the request itself is wrong; retrying cannot help. */
  | 'rejected'
  /** The provider answered, but not with what its API promises (bad JSON, no image, a bad download). */
  | 'malformed';

/** A failed provider call, classified. `message` is for operators' logs, never for users. */
export class ProviderCallError extends Error {
  readonly kind: ProviderFailureKind;
  readonly provider: string;
  readonly status: number | undefined;
  /** From Retry-After (or the vendor's equivalent), when the provider said when to come back. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    kind: ProviderFailureKind,
    message: string,
    details: {
      provider: string;
      status?: number | undefined;
      retryAfterSeconds?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
    this.name = 'ProviderCallError';
    this.kind = kind;
    this.provider = details.provider;
    this.status = details.status;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** Kinds worth another attempt at the same provider. */
export function isRetryableFailure(kind: ProviderFailureKind): boolean {
  return kind === 'rate_limited' || kind === 'unavailable' || kind === 'timeout' || kind === 'network';
}

/** Kinds where the next model in the fallback list may serve the request. */
export function canFallBack(kind: ProviderFailureKind): boolean {
  return isRetryableFailure(kind) || kind === 'credentials';
}

/** The coded error a user sees for a provider failure (STYLE.md §5): never the provider's own words. */
export function toImagineError(error: ProviderCallError): ImagineError {
  switch (error.kind) {
    case 'rate_limited':
    case 'unavailable':
    case 'timeout':
    case 'network':
      return new ImagineError(
        'provider_unavailable',
        undefined,
        error.retryAfterSeconds === undefined ? {} : { retry_after: Math.ceil(error.retryAfterSeconds) },
        { cause: error },
      );
    case 'credentials':
      // Operators read `credentials` (and the variable to set) in the logs; users get the contract's 503,
      // since nothing they do can fix it.
      return new ImagineError('provider_unavailable', undefined, {}, { cause: error });
    case 'safety':
      return new ImagineError(
        'content_policy_violation',
        "The image provider's safety system refused this prompt. Rephrase it and try again.",
        {},
        { cause: error },
      );
    case 'rejected':
    case 'malformed':
      return new ImagineError('generation_failed', undefined, {}, { cause: error });
  }
}

/** Parses a Retry-After header: delta-seconds or an HTTP date. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: Date = new Date(),
): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now.getTime()) / 1000);
}
