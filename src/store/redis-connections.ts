/**
 * Every Redis connection of the product is built from here, from the one
 * config: a single server (`REDIS_URL`) or a Sentinel-managed primary
 * (`REDIS_SENTINELS`, `REDIS_SENTINEL_NAME`), and options by what the
 * connection is for (its role). See docs/operations.md.
 *
 * Roles:
 * - `command`: the shared connection of the request path (store, nonce
 *   stores, alarms, leases, publishes). Fails fast while Redis is away: no
 *   offline queue, commands in flight are rejected when the connection drops,
 *   and every command has a timeout. Callers answer 503 and clients resend.
 * - `durable`: the small pool that runs ingest + WAIT (a WAIT blocks its
 *   connection). Like `command`, with room for the WAIT timeout.
 * - `subscriber`: pub/sub (door relay). Queues a SUBSCRIBE until the
 *   connection is up, but never longer than the command timeout.
 * - `blocking`: blocking reads (XREADGROUP BLOCK); waits for Redis as long as
 *   it takes, no command timeout (it would cut the BLOCK short).
 * - `worker`: BullMQ workers and queues used by background loops; BullMQ
 *   requires `maxRetriesPerRequest: null`.
 * - `queue`: a BullMQ queue used from start-up or the request path; fails
 *   within a reconnect round (at most a second) or the command timeout.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '../config.js';

export type RedisRole = 'command' | 'durable' | 'subscriber' | 'blocking' | 'worker' | 'queue';

export interface RedisSettings {
  /** redis:// or rediss:// URL: the server, or (with sentinels) credentials, db and TLS of the data nodes. */
  url?: string | undefined;
  sentinels?: { host: string; port: number }[] | undefined;
  sentinelName?: string | undefined;
  sentinelPassword?: string | undefined;
  commandTimeoutMs: number;
  /** Replicas that must confirm an ingest (WAIT); 0 turns WAIT off. */
  waitReplicas: number;
  waitTimeoutMs: number;
  /** Size of the pool of connections that run ingest + WAIT. */
  waitConnections: number;
}

export function redisSettings(config: RedisConfig): RedisSettings {
  const sentinels = config.REDIS_SENTINELS;
  return {
    url: config.REDIS_URL,
    sentinels,
    sentinelName: config.REDIS_SENTINEL_NAME,
    sentinelPassword: config.REDIS_SENTINEL_PASSWORD,
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    // With Sentinel, an acknowledged notice must survive the failover of the primary.
    waitReplicas: config.REDIS_WAIT_REPLICAS ?? (sentinels === undefined ? 0 : 1),
    waitTimeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
    waitConnections: config.REDIS_WAIT_CONNECTIONS,
  };
}

/** Where the data nodes are and how to log in to them. */
function target(settings: RedisSettings): Omit<RedisOptions, 'retryStrategy'> {
  const options: Omit<RedisOptions, 'retryStrategy'> = {};
  let tls = false;
  if (settings.url !== undefined) {
    const url = new URL(settings.url);
    if (url.username !== '') options.username = decodeURIComponent(url.username);
    if (url.password !== '') options.password = decodeURIComponent(url.password);
    const db = url.pathname.replace(/^\//, '');
    if (db !== '') options.db = Number(db);
    tls = url.protocol === 'rediss:';
    if (tls) options.tls = {};
    if (settings.sentinels === undefined) {
      options.host = url.hostname === '' ? '127.0.0.1' : url.hostname.replace(/^\[(.*)\]$/, '$1');
      options.port = url.port === '' ? 6379 : Number(url.port);
    }
  }
  if (settings.sentinels !== undefined) {
    options.sentinels = settings.sentinels.map((s) => ({ host: s.host, port: s.port }));
    options.name = settings.sentinelName;
    if (settings.sentinelPassword !== undefined) options.sentinelPassword = settings.sentinelPassword;
    // Subscribe to +switch-master: reconnect at once on a failover, also when the old primary is only cut off.
    options.failoverDetector = true;
    // A sentinel that accepts the connection but does not answer must not hold the reconnect up.
    options.sentinelCommandTimeout = settings.commandTimeoutMs;
    if (tls) options.enableTLSForSentinelMode = true;
  }
  return options;
}

/** Reconnect quickly (at most a second apart): an outage ends for the service as soon as Redis is back. */
const retryStrategy = (times: number): number => Math.min(times * 100, 1000);

/** ioredis options that BullMQ also takes (its types want a retry strategy function, never null). */
export type RoleOptions = Omit<RedisOptions, 'retryStrategy'> & { retryStrategy: (times: number) => number };

/** The ioredis options of a connection of `role`, for ioredis and BullMQ alike; `extra` wins (tests). */
export function redisOptions(settings: RedisSettings, role: RedisRole, extra: Omit<RedisOptions, 'retryStrategy'> = {}): RoleOptions {
  const sentinel = settings.sentinels !== undefined;
  const failFast = role === 'command' || role === 'durable' || role === 'queue' || role === 'subscriber';
  const common: RoleOptions = {
    ...target(settings),
    connectionName: `dokubox-${role}`,
    connectTimeout: 5000,
    enableReadyCheck: true,
    retryStrategy,
    // A write refused by a replica means we talk to a demoted primary: reconnect, Sentinel names the new one.
    ...(sentinel ? { reconnectOnError: (error: Error) => (/^READONLY\b/.test(error.message) ? (failFast ? 1 : 2) : false) } : {}),
  };
  const byRole: Record<RedisRole, Omit<RedisOptions, 'retryStrategy'>> = {
    // socketTimeout: a connection that gets no byte back for that long while commands wait is dead (a cut-off
    // or frozen server): drop it and reconnect, so that the following requests fail at once and, with Sentinel,
    // the primary is looked up again.
    // enableAutoPipelining: the commands that concurrent requests issue in one turn of the event loop go out
    // in one socket write (a write is a system call, the largest single cost of a notice: docs/performance.md);
    // order per connection, replies, timeouts and errors per command are unchanged.
    command: { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: settings.commandTimeoutMs, socketTimeout: settings.commandTimeoutMs, enableAutoPipelining: true },
    durable: {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: settings.commandTimeoutMs + settings.waitTimeoutMs,
      socketTimeout: settings.commandTimeoutMs + settings.waitTimeoutMs,
    },
    subscriber: { enableOfflineQueue: true, maxRetriesPerRequest: 0, commandTimeout: settings.commandTimeoutMs },
    blocking: { enableOfflineQueue: true, maxRetriesPerRequest: null },
    worker: { enableOfflineQueue: true, maxRetriesPerRequest: null },
    // Offline queue on, so that BullMQ's QUIT on shutdown during an outage does not fail; anything else fails within a reconnect round.
    queue: { enableOfflineQueue: true, maxRetriesPerRequest: 0, commandTimeout: settings.commandTimeoutMs },
  };
  return { ...common, ...byRole[role], ...extra };
}

/** Human-readable target without credentials, for start-up messages. */
export function describeRedis(settings: RedisSettings): string {
  if (settings.sentinels !== undefined) return `master '${settings.sentinelName ?? ''}' via sentinels ${settings.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  if (settings.url === undefined) return 'no Redis configured';
  const url = new URL(settings.url);
  return `${url.protocol}//${url.host}`;
}

/**
 * A new connection of `role`. Connection errors are logged once per outage
 * (every reconnect attempt fails the same way) and the recovery once.
 */
export function connectRedis(settings: RedisSettings, role: RedisRole, logger: Logger, extra: Omit<RedisOptions, 'retryStrategy'> = {}): Redis {
  const redis = new Redis(redisOptions(settings, role, extra));
  let failing = false;
  redis.on('error', (error: Error & { code?: string }) => {
    if (failing) return;
    failing = true;
    logger.warn({ role, err: { message: error.message, errno: error.code } }, 'redis connection lost; reconnecting');
  });
  redis.on('ready', () => {
    if (!failing) return;
    failing = false;
    logger.info({ role }, 'redis connection restored');
  });
  return redis;
}

/** Resolves once the connection is ready; rejects with a clear message after `timeoutMs`. */
export async function untilReady(redis: Redis, settings: RedisSettings, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let last: Error | undefined;
    const onError = (error: Error): void => {
      last = error;
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `Redis (${describeRedis(settings)}) did not answer within ${timeoutMs} ms${last === undefined ? '' : ` (${last.message})`}; start Redis or fix REDIS_URL / REDIS_SENTINELS.`,
        ),
      );
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('error', onError);
      redis.off('ready', onReady);
    };
    redis.on('error', onError);
    redis.once('ready', onReady);
  });
}

/** Closes a connection politely, or at once when Redis is not there to answer. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  await redis.quit().catch(() => redis.disconnect());
}
