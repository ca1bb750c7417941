/**
 * WAIT for a replica: with REDIS_WAIT_REPLICAS a notice is acknowledged only
 * once a replica has it, a duplicate's answer is confirmed the same way, and
 * a replica that does not confirm in time makes the answer a retryable 503
 * without holding up other requests. A private primary and replica.
 */
import { Redis } from 'ioredis';
import { freePort } from '../../src/cli/redis-server.js';
import { ReplicaWait } from '../../src/store/replica-wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrivateRedis } from '../../src/cli/redis-server.js';
import { AUTHORITY, createWorld, KEYS, notice, type TestWorld } from '../support/harness.js';
import { startPrimary, startReplica } from '../support/redis-processes.js';

let primary: PrivateRedis;
let replica: PrivateRedis;
let world: TestWorld;
let onReplica: Redis;

const msgKey = (messageId: string): string => `${world.config.REDIS_KEY_PREFIX}:msg:${AUTHORITY}:${messageId}`;

beforeAll(async () => {
  primary = await startPrimary();
  replica = await startReplica(primary.port);
  world = await createWorld({ env: { REDIS_URL: primary.url, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '1000', REDIS_WAIT_CONNECTIONS: '2' } });
  onReplica = new Redis(replica.url);
  onReplica.on('error', () => undefined); // the replica is stopped on purpose below
});

afterAll(async () => {
  onReplica?.disconnect();
  try {
    await world?.close();
  } finally {
    await replica?.stop();
    await primary?.stop();
  }
});

describe('an acknowledged notice is on a replica', () => {
  it('answers 201 only once the replica has the notice', async () => {
    const input = notice();
    const res = await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input });
    expect(res.status).toBe(201);
    // No waiting: WAIT returned only after the replica had applied the write.
    expect(await onReplica.get(msgKey(input.messageId))).not.toBeNull();
  });

  it('confirms a duplicate with a write of its own, so its answer is as safe as the first', async () => {
    const input = notice();
    await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input });
    const statsKey = `${world.config.REDIS_KEY_PREFIX}:stats:ingest`;
    const before = Number((await onReplica.hget(statsKey, 'duplicate')) ?? 0);
    const again = await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { outcome: string }).outcome).toBe('duplicate');
    expect(Number(await onReplica.hget(statsKey, 'duplicate'))).toBe(before + 1);
  });
});

describe('when no replica confirms in time', () => {
  const input = notice();

  beforeAll(async () => {
    await replica.stop();
  });

  it('answers 503 "not yet safely stored" with Retry-After, and other requests do not wait for it', async () => {
    const order: string[] = [];
    const write = world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input }).then((res) => {
      order.push('notice');
      return res;
    });
    const read = world.request('GET', `/v1/pickups?messageId=${notice().messageId}`, { key: KEYS.caseSystem }).then((res) => {
      order.push('read');
      return res;
    });
    const [res, other] = await Promise.all([write, read]);
    expect(other.status).toBe(404);
    expect(order).toEqual(['read', 'notice']);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(body.error.message).toMatch(/not yet safely stored: 0 of 1 Redis replica/);
    expect(body.error.message).toMatch(/same message id/);
  });

  it('answers the resend "duplicate" once the replica is back', async () => {
    replica = await startReplica(primary.port, { port: replica.port });
    const res = await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outcome: string }).outcome).toBe('duplicate');
    expect(await onReplica.get(msgKey(input.messageId))).not.toBeNull();
  });
});

describe('the pool of WAIT connections', () => {
  it('sends a write to a connection that is up, not to one that is reconnecting', async () => {
    const live = new Redis(primary.url);
    const down = new Redis({ port: await freePort(), enableOfflineQueue: false, retryStrategy: () => 1000 });
    down.on('error', () => undefined);
    await live.ping();
    const pool = new ReplicaWait([down, live], 0, 100);
    try {
      for (let i = 0; i < 5; i += 1) {
        const { reply, acknowledged } = await pool.evalAndWait("return redis.call('PING')", []);
        expect(reply).toBe('PONG');
        expect(acknowledged).toBeGreaterThanOrEqual(0);
      }
    } finally {
      await pool.close();
    }
  });
});
