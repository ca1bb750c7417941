/**
 * Recognises "Redis is not there right now" among errors, so that every edge
 * (REST, SOAP, XML) answers it with a retryable DEPENDENCY_UNAVAILABLE (503,
 * Retry-After) instead of a 500. Connection errors, the fail-fast rejections
 * of our connections (no offline queue, commands flushed when a connection
 * drops, command timeouts) and the replies of a Redis that cannot serve
 * writes now (loading, replica, failover in progress, busy script).
 */
import { DokuboxError } from '../core/errors.js';

/** Socket error codes of a connection that failed or broke. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_STREAM_DESTROYED']);

/** Messages of ioredis (and BullMQ passing them on) when a command cannot reach Redis. */
const CLIENT_MESSAGES = [
  /^Connection is closed\.?$/,
  /^Stream isn't writeable and enableOfflineQueue options is false/,
  /^Command timed out/,
  /^Reached the max retries per request limit/,
  /^Command aborted due to connection close/,
  /^Socket timeout\./,
  /^All sentinels are unreachable/,
  /^connect E[A-Z]+/,
];

/**
 * Error replies of a server that cannot take the command now but will:
 * still loading its data, a replica (the primary moved), no reachable
 * primary or too few replicas during a failover, a busy script, failing
 * persistence, out of memory under noeviction.
 */
const TRANSIENT_REPLIES = new Set(['LOADING', 'READONLY', 'MASTERDOWN', 'NOREPLICAS', 'TRYAGAIN', 'BUSY', 'MISCONF', 'OOM']);

function oneIsUnavailable(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (CLIENT_MESSAGES.some((pattern) => pattern.test(error.message))) return true;
  // Reply errors start with an upper-case word: BUSYGROUP is not BUSY.
  const word = /^([A-Z]+)(?:\s|$)/.exec(error.message)?.[1];
  return word !== undefined && TRANSIENT_REPLIES.has(word);
}

/** Whether `error` (or an error it wraps) means Redis cannot be reached or cannot serve now. */
export function isRedisUnavailable(error: unknown, depth = 0): boolean {
  // A DokuboxError is an answer decided already (whatever caused it).
  if (depth > 4 || !(error instanceof Error) || error instanceof DokuboxError) return false;
  if (oneIsUnavailable(error)) return true;
  const nested = error instanceof AggregateError ? error.errors : [];
  return nested.some((e) => isRedisUnavailable(e, depth + 1)) || isRedisUnavailable(error.cause, depth + 1);
}

/** The answer for a request that failed because Redis was unavailable; says what to do. */
export function redisUnavailableError(cause: unknown): DokuboxError {
  return new DokuboxError(
    'DEPENDENCY_UNAVAILABLE',
    'The data store is unavailable right now, so the request may or may not have taken effect. Send it again in a few seconds (see Retry-After); a notice resent with the same message id is stored once and answered created or duplicate.',
    { cause },
  );
}

/** A DokuboxError for Redis outages, undefined for anything else. */
export function asRedisUnavailable(error: unknown): DokuboxError | undefined {
  return isRedisUnavailable(error) ? redisUnavailableError(error) : undefined;
}
