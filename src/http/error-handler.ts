import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { databaseUnavailable, isDatabaseUnreachable } from '../core/errors/database-unavailable.ts';
import { type FieldProblem, ImagineError, validationError } from '../core/errors/imagine-error.ts';
import { isStorageFailure, storageUnavailable } from '../core/errors/storage-unavailable.ts';

/** The contract's error body for an ImagineError: `{ error, message, …context }`. */
export function errorBody(error: ImagineError): Record<string, unknown> {
  return { error: error.code, message: error.message, ...error.context };
}

/** Sends a coded error with its status, and `Retry-After` when the error says when to come back. */
export function sendError(reply: FastifyReply, error: ImagineError): FastifyReply {
  const retryAfter = error.context.retry_after;
  if (typeof retryAfter === 'number') reply.header('retry-after', String(Math.max(0, Math.ceil(retryAfter))));
  return reply.code(error.httpStatus).send(errorBody(error));
}

/** Fastify's own error codes that map onto the contract's. */
const frameworkErrors: Record<string, () => ImagineError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => new ImagineError('invalid_json'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new ImagineError('invalid_json', 'The request body is empty; send a JSON object'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new ImagineError('invalid_json', 'Send the body as JSON with Content-Type: application/json'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new ImagineError('invalid_json', 'The Content-Length does not match the body'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new ImagineError('payload_too_large'),
};

function toCodedError(error: FastifyError): ImagineError | undefined {
  if (ImagineError.isInstance(error)) return error;
  // A write the disk refused outside the group commit (an idempotency key, a read of a damaged page).
  if (isStorageFailure(error)) return storageUnavailable(error);
  // PostgreSQL gone (down, failing over, out of connections): the caller may retry, nothing was kept.
  if (isDatabaseUnreachable(error)) return databaseUnavailable(error);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const details: FieldProblem[] = error.validation.map((issue) => {
      const field = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return {
        field: field || (error.validationContext ?? 'body'),
        message: issue.message ?? 'is not valid',
      };
    });
    return validationError(details);
  }
  const mapped = error.code ? frameworkErrors[error.code] : undefined;
  if (mapped) return mapped();
  // A JSON.parse failure surfaces as a SyntaxError carrying status 400.
  if (error instanceof SyntaxError && error.statusCode === 400) return new ImagineError('invalid_json');
  // The static file server answers 403 for paths it refuses (dot files, traversal): to a caller that is
  // the same as a file that does not exist, and saying more would confirm the file is there.
  if (error.statusCode === 404 || error.statusCode === 403) return new ImagineError('not_found');
  // Any other refusal Fastify or a plugin decides before our code runs (a malformed Content-Type, a NUL in
  // a docs asset path) is still the caller's mistake: a 400 in the contract's shape, never a 500. Plugins
  // raise http-errors, whose `expose` marks an error as the client's.
  const fromFramework = error.code?.startsWith('FST_ERR_') || (error as { expose?: unknown }).expose === true;
  if (fromFramework && error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new ImagineError('bad_request');
  }
  return undefined;
}

/**
 * Fastify's `frameworkErrors`: the router's refusals before any route or hook runs (a URL with a broken
 * %-escape or invalid UTF-8, a path parameter past the length limit), in the contract's shape.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  reply.header('x-request-id', request.id);
  const coded =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? // No id that long exists, so this is the same answer as any unknown id.
        new ImagineError('not_found')
      : new ImagineError('bad_request', 'The URL is not valid: it has a broken %-escape or is not UTF-8');
  sendError(reply, coded);
}

/** Installs the one error handler: coded errors in the contract's shape, anything else a 500 with a request id. */
export function installErrorHandling(
  app: FastifyInstance,
  options: {
    /** Told of a raw disk or database failure a request met (a damaged page read), so /health reports it. */
    onStorageFailure?: (error: unknown) => void;
  } = {},
): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (!ImagineError.isInstance(error) && isStorageFailure(error)) options.onStorageFailure?.(error);
    const coded = toCodedError(error);
    if (coded) {
      if (coded.httpStatus >= 500) request.log.warn({ err: error, code: coded.code }, 'request failed');
      return sendError(reply, coded);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(
      reply,
      new ImagineError(
        'internal_error',
        'Something went wrong on our side; quote the request id if you report it',
        {
          request_id: request.id,
        },
      ),
    );
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendError(
      reply,
      new ImagineError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}
