/**
 * One error envelope for every HTTP error: `{error:{code,message,requestId}}`
 * plus the offending `field` where there is one. Unknown errors become
 * INTERNAL without details; stack traces never leave the process.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DokuboxError, RETRY_AFTER_SECONDS, type ErrorCode } from '../core/errors.js';
import { asRedisUnavailable } from '../store/redis-errors.js';
import type { AppEnv } from './context.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; field?: string };
}

export function errorBody(c: Context<AppEnv>, error: DokuboxError): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      requestId: c.get('requestId') ?? '',
      ...(error.field === undefined || error.field === '' ? {} : { field: error.field }),
    },
  };
}

/** Redis outages become a retryable DEPENDENCY_UNAVAILABLE (503); other unknown errors INTERNAL. */
export function toDokuboxError(error: unknown): DokuboxError {
  if (error instanceof DokuboxError) return error;
  const unavailable = asRedisUnavailable(error);
  if (unavailable !== undefined) return unavailable;
  return new DokuboxError('INTERNAL', 'An internal error occurred; the request can be retried. If it persists, contact the operators with the request id.', { cause: error });
}

export function respondError(c: Context<AppEnv>, error: DokuboxError): Response {
  if (error.code === 'UNAUTHENTICATED') c.header('WWW-Authenticate', 'Bearer realm="dokubox"');
  if (error.retryable && error.status === 503) c.header('Retry-After', String(RETRY_AFTER_SECONDS));
  return c.json(errorBody(c, error), error.status as ContentfulStatusCode);
}

/** Reads a JSON body with clear errors for wrong media types and malformed JSON. */
export async function readJson(c: Context<AppEnv>, options: { optional?: boolean } = {}): Promise<unknown> {
  const text = await c.req.text();
  if (options.optional === true && text.trim() === '') return {};
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new DokuboxError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON with the header Content-Type: application/json.');
  }
  if (text.trim() === '') throw new DokuboxError('MALFORMED_BODY', 'The request body is empty; send a JSON object.');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new DokuboxError('MALFORMED_BODY', `The request body is not valid JSON (${error instanceof SyntaxError ? error.message : 'parse error'}).`);
  }
}

export function fail(code: ErrorCode, message: string, field?: string): never {
  throw new DokuboxError(code, message, field === undefined ? {} : { field });
}
