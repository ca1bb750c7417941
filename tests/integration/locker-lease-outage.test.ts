/**
 * A gateway lease through a Redis outage, on the product's request-path
 * connection (fail fast, reconnect at most a second apart): the holder gives
 * the lease up in time while Redis is away and takes it again by itself when
 * Redis is back.
 */
import { once } from 'node:events';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayLease } from '../../adapters/locker/lease.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/cli/redis-server.js';
import { closeRedis, connectRedis, type RedisSettings } from '../../src/store/redis-connections.js';

const logger = pino({ level: 'silent' });
let redis: PrivateRedis | undefined;

afterAll(async () => {
  await redis?.stop();
});

describe('gateway lease and a Redis outage', () => {
  it('is given up while Redis is away and taken again when it is back', async () => {
    redis = await startPrivateRedis();
    const settings: RedisSettings = { url: redis.url, commandTimeoutMs: 500, waitReplicas: 0, waitTimeoutMs: 1000, waitConnections: 1 };
    const connection = connectRedis(settings, 'command', logger);
    const lease = new GatewayLease({ redis: connection, key: 'outage-test:lease:box:gw1', owner: 'instance-a', ttlMs: 600, renewEveryMs: 100, logger });
    try {
      const acquired = once(lease, 'acquired');
      lease.start();
      await acquired;

      const lost = once(lease, 'lost');
      await redis.stop();
      const [reason] = (await lost) as [string];
      expect(reason).toBe('expired');
      expect(lease.held).toBe(false);

      const again = once(lease, 'acquired');
      redis = await startPrivateRedis({ port: redis.port });
      await again;
      expect(lease.held).toBe(true);
    } finally {
      await lease.stop();
      await closeRedis(connection);
    }
  });
});
