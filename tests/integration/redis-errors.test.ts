/**
 * Which errors mean "Redis is unavailable, resend later" (503) and which are
 * bugs (500). The client-side errors are produced by real ioredis clients
 * against a closed port, a silent server and the test Redis; the server's
 * transient replies (loading, replica, failover, busy) are built from their
 * wire text because provoking each for real takes seconds.
 */
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freePort } from '../../src/cli/redis-server.js';
import { DokuboxError } from '../../src/core/errors.js';
import { toDokuboxError } from '../../src/http/errors.js';
import { isRedisUnavailable } from '../../src/store/redis-errors.js';

/** The error a promise rejects with. */
async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a rejection with an Error');
  return error;
}

let closedPort: number;
let silent: Server;
const held: Socket[] = [];
const clients: Redis[] = [];
const client = (options: RedisOptions | string): Redis => {
  const redis = typeof options === 'string' ? new Redis(options) : new Redis(options);
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
};

beforeAll(async () => {
  closedPort = await freePort();
  // Accepts connections and never answers: a hung or cut-off Redis.
  silent = createServer((socket) => held.push(socket));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
});

afterAll(async () => {
  for (const redis of clients) redis.disconnect();
  for (const socket of held) socket.destroy();
  silent.close();
});

describe('Redis unavailability', () => {
  it('is a refused connection (no offline queue)', async () => {
    const redis = client({ port: closedPort, enableOfflineQueue: false, lazyConnect: true });
    const error = await errorOf(redis.get('k'));
    expect(error.message).toMatch(/Stream isn't writeable/);
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it('is a command flushed when the connection drops (maxRetriesPerRequest)', async () => {
    const redis = client({ port: closedPort, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    const error = await errorOf(redis.get('k'));
    expect(error.name).toBe('MaxRetriesPerRequestError');
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it('is a command on a closed connection', async () => {
    const redis = client({ port: closedPort, lazyConnect: true });
    redis.disconnect();
    const error = await errorOf(redis.get('k'));
    expect(error.message).toBe('Connection is closed.');
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it('is a command timeout against a server that does not answer', async () => {
    const address = silent.address() as { port: number };
    const redis = client({ port: address.port, commandTimeout: 50, enableReadyCheck: false });
    const error = await errorOf(redis.call('PING'));
    expect(error.message).toBe('Command timed out');
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it('is a socket error (ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT), also wrapped', async () => {
    const socket = connect(closedPort, '127.0.0.1');
    const [refused] = (await once(socket, 'error').catch((e: unknown) => [e])) as [Error];
    expect(isRedisUnavailable(refused)).toBe(true);
    for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT']) expect(isRedisUnavailable(Object.assign(new Error(`read ${code}`), { code }))).toBe(true);
    expect(isRedisUnavailable(new AggregateError([refused], 'connect failed'))).toBe(true);
    expect(isRedisUnavailable(new Error('job failed', { cause: refused }))).toBe(true);
  });

  it.each([
    'LOADING Redis is loading the dataset in memory',
    "READONLY You can't write against a read only replica.",
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    'NOREPLICAS Not enough good replicas to write.',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.',
    'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
    "OOM command not allowed when used memory > 'maxmemory'.",
  ])('is the reply %s', (text) => {
    expect(isRedisUnavailable(new ReplyError(text))).toBe(true);
  });
});

describe('not Redis unavailability (stays a 500)', () => {
  it('is a wrong command, a wrong type or an existing consumer group', async () => {
    const redis = client(inject('redisUrl'));
    const key = `errors-test:${process.pid}:${Date.now()}`;
    await redis.set(key, 'x', 'EX', 60);
    const wrongType = await errorOf(redis.hget(key, 'f'));
    expect(wrongType.message).toMatch(/^WRONGTYPE/);
    await redis.xgroup('CREATE', `${key}:s`, 'g', '$', 'MKSTREAM');
    const busyGroup = await errorOf(redis.xgroup('CREATE', `${key}:s`, 'g', '$'));
    expect(busyGroup.message).toMatch(/^BUSYGROUP/);
    const unknown = await errorOf(redis.call('NO-SUCH-COMMAND'));
    await redis.del(key, `${key}:s`);
    for (const error of [wrongType, busyGroup, unknown, new TypeError("Cannot read properties of undefined (reading 'x')")]) {
      expect(isRedisUnavailable(error)).toBe(false);
      expect(toDokuboxError(error).code).toBe('INTERNAL');
    }
  });

  it('is a DokuboxError, which keeps its own code', () => {
    const error = new DokuboxError('VALIDATION_FAILED', 'bad', { cause: new ReplyError('LOADING') });
    expect(isRedisUnavailable(error)).toBe(false);
    expect(toDokuboxError(error)).toBe(error);
  });

  it('maps unavailability to a retryable DEPENDENCY_UNAVAILABLE without the Redis text', () => {
    const mapped = toDokuboxError(new ReplyError("READONLY You can't write against a read only replica."));
    expect(mapped).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', status: 503, retryable: true });
    expect(mapped.message).not.toMatch(/READONLY/);
  });
});
