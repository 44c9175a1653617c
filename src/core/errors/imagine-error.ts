import { type ErrorCode, errorCodes } from './error-codes.ts';

const marker = Symbol.for('imagine.error');

/** Extra facts a transport may word into its own reply (`used`, `limit`, `retry_after`, ...). */
export type ErrorContext = Record<string, unknown>;

/**
 * The base of every error the core raises on purpose. `code` is stable and maps to an HTTP status
 * through the registry; `context` carries the numbers a person needs (used/limit, retry_after).
 */
export class ImagineError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message?: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message ?? errorCodes[code].message, options);
    this.name = 'ImagineError';
    this.code = code;
    this.context = context;
  }

  get httpStatus(): number {
    return errorCodes[this.code].httpStatus;
  }

  get retryable(): boolean {
    return errorCodes[this.code].retryable;
  }

  /** True for ImagineErrors from any copy of this module (works across bundles, unlike instanceof). */
  static isInstance(value: unknown): value is ImagineError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}

/** One field that failed validation, as the 422 body lists it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** A 422 `validation_error` naming each field that is wrong. */
export function validationError(details: FieldProblem[]): ImagineError {
  const summary = details.map((detail) => `${detail.field}: ${detail.message}`).join('; ');
  return new ImagineError('validation_error', `The request is not valid: ${summary}`, { details });
}
