/**
 * One error envelope for every HTTP error: `{error:{code,message,requestId}}`
 * plus the offending `field` where there is one. Unknown errors become
 * INTERNAL without details; stack traces never leave the process.
 */
import type { Context } from 'hono';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { DokuboxError, RETRY_AFTER_SECONDS, type ErrorCode } from '../core/errors.js';
import { failValidation } from '../core/validation.js';
import { asRedisUnavailable } from '../store/redis-errors.js';
import type { AppEnv } from './context.js';
import { nodeIncomingOf, readIncomingLimited } from './node-body.js';

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

/**
 * The body as text. A body whose declared length the body limit in app.ts found within the limit (no
 * Transfer-Encoding; Node's parser delivers exactly that length) is read from the Node request itself,
 * never more than the declared bytes; any other through `c.req`, where hono's bodyLimit counts a
 * streamed body as it arrives.
 */
async function bodyText(c: Context<AppEnv>): Promise<string> {
  const declared = c.get('declaredBodyBytes');
  const incoming = declared === undefined ? undefined : nodeIncomingOf((c.env as { incoming?: unknown } | undefined)?.incoming);
  if (declared !== undefined && incoming !== undefined) return (await readIncomingLimited(incoming, c.req.raw.headers, declared)).toString('utf8');
  return c.req.text();
}

/** Reads a JSON body with clear errors for wrong media types and malformed JSON. */
export async function readJson(c: Context<AppEnv>, options: { optional?: boolean } = {}): Promise<unknown> {
  const text = await bodyText(c);
  // /\S/ (the whitespace trim() removes) instead of trimming a copy of the body.
  const blank = !/\S/.test(text);
  if (options.optional === true && blank) return {};
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new DokuboxError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON with the header Content-Type: application/json.');
  }
  if (blank) throw new DokuboxError('MALFORMED_BODY', 'The request body is empty; send a JSON object.');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DokuboxError('MALFORMED_BODY', `The request body is not valid JSON: ${whereJsonBreaks(text)}. Fix the JSON and send it again.`);
  }
}

/**
 * Where a JSON text breaks and what was expected there, without repeating any
 * of the text (it may carry personal data): e.g. `value expected at line 3,
 * column 14`. The platform's messages quote the text, so they are not used.
 */
export function whereJsonBreaks(text: string): string {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first === undefined) return 'it breaks somewhere (e.g. an unescaped control character in a string)';
  const before = text.slice(0, first.offset);
  const line = before.split('\n').length;
  const column = first.offset - before.lastIndexOf('\n');
  const what = printParseErrorCode(first.error)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return `${what} at line ${line}, column ${column}`;
}

export function fail(code: ErrorCode, message: string, field?: string): never {
  throw new DokuboxError(code, message, field === undefined ? {} : { field });
}

/** Validates a parsed body with `schema`; the first problem becomes VALIDATION_FAILED naming the field and the expected kind. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  return failValidation(result.error, body);
}
