/**
 * One error type for the whole product. Each error has a stable code that
 * integrators can match on, a message that says what happened and what to do,
 * the HTTP status it maps to, and whether retrying could help. Messages never
 * contain personal data (names, dates of birth, phone numbers, codes).
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, retryable: false },
  MALFORMED_BODY: { status: 400, retryable: false },
  BODY_TOO_LARGE: { status: 413, retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false },
  UNAUTHENTICATED: { status: 401, retryable: false },
  FORBIDDEN: { status: 403, retryable: false },
  /** A state-changing dashboard request without the session's CSRF token (or from another origin). */
  CSRF_REFUSED: { status: 403, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  UNKNOWN_BOX: { status: 422, retryable: false },
  UNKNOWN_DOCUMENT_TYPE: { status: 422, retryable: false },
  CONSENT_MISSING: { status: 422, retryable: false },
  INVALID_PHONE: { status: 422, retryable: false },
  INVALID_DATE: { status: 422, retryable: false },
  IDEMPOTENCY_CONFLICT: { status: 409, retryable: false },
  ILLEGAL_TRANSITION: { status: 409, retryable: false },
  CONCURRENT_UPDATE: { status: 409, retryable: true },
  CODE_SPACE_EXHAUSTED: { status: 503, retryable: true },
  CODE_LIMIT_REACHED: { status: 409, retryable: false },
  VERIFICATION_FAILED: { status: 401, retryable: false },
  PIN_LETTER_MISSING: { status: 422, retryable: false },
  KIOSK_PAUSED: { status: 429, retryable: true },
  BOX_CLOSED: { status: 409, retryable: true },
  BOX_OFFLINE: { status: 503, retryable: true },
  TOO_MANY_ATTEMPTS: { status: 429, retryable: true },
  COMPARTMENT_UNAVAILABLE: { status: 409, retryable: false },
  /** A dashboard account change that clashes with existing accounts (username taken, admin exists, last admin). */
  ACCOUNT_CONFLICT: { status: 409, retryable: false },
  DEPENDENCY_UNAVAILABLE: { status: 503, retryable: true },
  CONFIG_INVALID: { status: 500, retryable: false },
  INTERNAL: { status: 500, retryable: true },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Seconds a client should wait before resending after a retryable 503 (the Retry-After header). */
export const RETRY_AFTER_SECONDS = 5;

export interface ErrorDetails {
  /** The offending field as a path, e.g. `documents[0].type`. Never its value. */
  field?: string;
  /** Non-personal context for operators (ids, states, box names). */
  context?: Record<string, string | number | boolean>;
  cause?: unknown;
}

export class DokuboxError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly field: string | undefined;
  readonly context: Record<string, string | number | boolean> | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'DokuboxError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retryable = ERROR_CODES[code].retryable;
    this.field = details.field;
    this.context = details.context;
  }
}

export function isDokuboxError(error: unknown): error is DokuboxError {
  return error instanceof DokuboxError;
}
