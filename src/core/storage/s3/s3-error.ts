import { ImagineError } from '../../errors/imagine-error.ts';
import { storageRetryAfterSeconds } from '../../errors/storage-unavailable.ts';

/** The facts of a failed S3 call that are safe to log. */
export interface S3FailureFacts {
  operation: string;
  /** S3's error code (`SlowDown`, `AccessDenied`, `NoSuchKey`) or the client's error name. */
  code: string;
  httpStatus: number | undefined;
  requestId: string | undefined;
}

/**
 * A plain error standing for what an S3 call said. The SDK's own error keeps every field of S3's XML answer
 * (a SignatureDoesNotMatch one carries the access key id and the string that was signed) and the raw response,
 * so only the operation, code, status, message and request id are carried on, and nothing else reaches a log.
 */
export function s3Failure(operation: string, error: unknown): Error & S3FailureFacts {
  const source = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    Code?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  };
  const code = String(source.Code ?? source.name ?? 'Error');
  const httpStatus =
    typeof source.$metadata?.httpStatusCode === 'number' ? source.$metadata.httpStatusCode : undefined;
  const requestId = typeof source.$metadata?.requestId === 'string' ? source.$metadata.requestId : undefined;
  const said = typeof source.message === 'string' && source.message !== code ? `: ${source.message}` : '';
  const failure = new Error(
    `S3 ${operation} failed with ${code}${httpStatus ? ` (${httpStatus})` : ''}${said}`,
  ) as Error & S3FailureFacts;
  failure.name = 'S3Failure';
  return Object.assign(failure, { operation, code, httpStatus, requestId });
}

/** The contract's 503 for a bucket that will not take or give an image: an outage, retried after a while. */
export function s3StorageUnavailable(operation: string, error: unknown): ImagineError {
  return new ImagineError(
    'storage_unavailable',
    'The image store cannot be reached right now; try again shortly',
    { retry_after: storageRetryAfterSeconds },
    { cause: s3Failure(operation, error) },
  );
}
