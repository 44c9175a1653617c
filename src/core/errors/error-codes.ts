/**
 * The one registry of error codes: each code's HTTP status, whether retrying can help, and the sentence a
 * person sees when the thrower has nothing more specific to say. Bodies follow docs/api.md.
 */
export const errorCodes = {
  invalid_json: { httpStatus: 400, retryable: false, message: 'The request body is not valid JSON' },
  bad_request: {
    httpStatus: 400,
    retryable: false,
    message: 'The request is malformed: check the URL and headers',
  },
  unauthorized: { httpStatus: 401, retryable: false, message: 'Invalid or expired token' },
  graphics_limit_reached: { httpStatus: 402, retryable: false, message: 'Monthly graphics limit reached' },
  scope_limit_reached: {
    httpStatus: 402,
    retryable: false,
    message: 'This server has used all of its images for the month',
  },
  forbidden: { httpStatus: 403, retryable: false, message: 'This needs an admin API key' },
  model_not_allowed: { httpStatus: 403, retryable: false, message: 'Your plan does not allow this model' },
  not_found: { httpStatus: 404, retryable: false, message: 'Not found' },
  request_timeout: { httpStatus: 408, retryable: true, message: 'The request took too long to arrive' },
  payload_too_large: { httpStatus: 413, retryable: false, message: 'The request body is too large' },
  validation_error: { httpStatus: 422, retryable: false, message: 'The request is not valid' },
  content_policy_violation: {
    httpStatus: 422,
    retryable: false,
    message: 'The prompt was refused by the content policy',
  },
  link_code_invalid: {
    httpStatus: 422,
    retryable: false,
    message: 'That link code is not valid: it may be mistyped, used already or expired',
  },
  unsupported_by_model: {
    httpStatus: 422,
    retryable: false,
    message: 'That model cannot do this; choose one of the models that can',
  },
  rate_limited: { httpStatus: 429, retryable: true, message: 'Too many requests; slow down' },
  headers_too_large: { httpStatus: 431, retryable: false, message: 'The request headers are too large' },
  internal_error: { httpStatus: 500, retryable: false, message: 'Something went wrong on our side' },
  generation_failed: { httpStatus: 502, retryable: true, message: 'The image could not be generated' },
  provider_unavailable: {
    httpStatus: 503,
    retryable: true,
    message: 'The image provider is unavailable right now; try again shortly',
  },
  storage_unavailable: {
    httpStatus: 503,
    retryable: true,
    message: 'The service cannot save anything right now (its disk is full or failing); try again shortly',
  },
  database_unavailable: {
    httpStatus: 503,
    retryable: true,
    message: 'The service cannot reach its database right now; try again shortly',
  },
  budget_exhausted: {
    httpStatus: 503,
    retryable: false,
    message: "The service's monthly generation budget is used up",
  },
} as const satisfies Record<string, { httpStatus: number; retryable: boolean; message: string }>;

/** A stable, machine-readable error identifier. */
export type ErrorCode = keyof typeof errorCodes;
