import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../support/harness.js';
import { needsPrivateRedis } from '../../src/cli/start.js';
import { redisOptions, redisSettings } from '../../src/store/redis-connections.js';

const secrets = { SECRET_KEY: randomBytes(32).toString('base64'), PII_KEY: randomBytes(32).toString('base64') };
const sentinel = { ...secrets, REDIS_SENTINELS: '10.0.0.1:26379, 10.0.0.2:26380,[fd00::3]:26381', REDIS_SENTINEL_NAME: 'dokubox' };

const problems = configProblems;

describe('Redis configuration', () => {
  it('takes sentinels instead of REDIS_URL and waits for one replica by default', () => {
    const config = loadConfig(sentinel);
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.REDIS_SENTINELS).toEqual([
      { host: '10.0.0.1', port: 26379 },
      { host: '10.0.0.2', port: 26380 },
      { host: 'fd00::3', port: 26381 },
    ]);
    expect(redisSettings(config)).toMatchObject({ waitReplicas: 1, waitTimeoutMs: 1000, commandTimeoutMs: 2000, waitConnections: 4 });
  });

  it('does not wait for replicas with a single Redis unless told to', () => {
    expect(redisSettings(loadConfig({ ...secrets, REDIS_URL: 'redis://127.0.0.1:6379' })).waitReplicas).toBe(0);
    expect(redisSettings(loadConfig({ ...secrets, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_WAIT_REPLICAS: '2' })).waitReplicas).toBe(2);
    expect(redisSettings(loadConfig({ ...sentinel, REDIS_WAIT_REPLICAS: '0' })).waitReplicas).toBe(0);
  });

  it.each([
    ['REDIS_SENTINELS', 'sentinel-without-port'],
    ['REDIS_SENTINELS', '10.0.0.1:port'],
    ['REDIS_SENTINELS', ' , '],
    ['REDIS_SENTINEL_NAME', 'two words'],
    ['REDIS_URL', 'redis://127.0.0.1:6379/zero'],
    ['REDIS_URL', 'redis://127.0.0.1:6379?db=1'],
    ['REDIS_WAIT_REPLICAS', '-1'],
    ['REDIS_WAIT_REPLICAS', 'all'],
    ['REDIS_WAIT_TIMEOUT_MS', '0'],
    ['REDIS_WAIT_CONNECTIONS', '0'],
    ['REDIS_COMMAND_TIMEOUT_MS', '5'],
  ])('names %s when its value (%s) is wrong', (name, value) => {
    const found = problems({ ...sentinel, [name]: value });
    expect(found.some((p) => p.startsWith(name))).toBe(true);
  });

  it('asks for the master name when sentinels are set without it', () => {
    expect(problems({ ...secrets, REDIS_SENTINELS: '10.0.0.1:26379' }).join('\n')).toMatch(/REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS/);
  });

  it('asks for REDIS_URL or sentinels when neither is set', () => {
    expect(problems(secrets).join('\n')).toMatch(/REDIS_URL: is required .*REDIS_SENTINELS/);
  });
});

describe('ioredis options by role', () => {
  const single = redisSettings(loadConfig({ ...secrets, REDIS_URL: 'redis://app:s%3Acret@redis.internal:6380/3', REDIS_COMMAND_TIMEOUT_MS: '1500', REDIS_WAIT_TIMEOUT_MS: '800' }));

  it('reads host, port, user, password and db from REDIS_URL', () => {
    expect(redisOptions(single, 'command')).toMatchObject({ host: 'redis.internal', port: 6380, username: 'app', password: 's:cret', db: 3 });
    expect(redisOptions(single, 'command').tls).toBeUndefined();
  });

  it('lets the request path fail fast and gives WAIT room on its own pool', () => {
    expect(redisOptions(single, 'command')).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1500, socketTimeout: 1500 });
    expect(redisOptions(single, 'durable')).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2300, socketTimeout: 2300 });
  });

  it('never cuts blocking reads or BullMQ workers short', () => {
    for (const role of ['blocking', 'worker'] as const) {
      const options = redisOptions(single, role);
      expect(options.maxRetriesPerRequest).toBeNull();
      expect(options.commandTimeout).toBeUndefined();
      expect(options.socketTimeout).toBeUndefined();
      expect(options.enableOfflineQueue).toBe(true);
    }
  });

  it('reconnects within a second however long the outage lasts', () => {
    const { retryStrategy } = redisOptions(single, 'command');
    expect([1, 2, 5, 50, 5000].map(retryStrategy)).toEqual([100, 200, 500, 1000, 1000]);
  });

  it('finds the primary through the sentinels; REDIS_URL then gives credentials, db and TLS of the data nodes', () => {
    const settings = redisSettings(loadConfig({ ...sentinel, REDIS_URL: 'rediss://:data-secret@ignored-host:1/2', REDIS_SENTINEL_PASSWORD: 'sentinel-secret' }));
    const options = redisOptions(settings, 'command');
    expect(options).toMatchObject({
      name: 'dokubox',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
        { host: 'fd00::3', port: 26381 },
      ],
      sentinelPassword: 'sentinel-secret',
      password: 'data-secret',
      db: 2,
      tls: {},
      enableTLSForSentinelMode: true,
      failoverDetector: true,
      sentinelCommandTimeout: 2000,
    });
    expect(options.host).toBeUndefined();
    const reconnectOnError = options.reconnectOnError as (error: Error) => unknown;
    expect(reconnectOnError(new Error("READONLY You can't write against a read only replica."))).toBe(1);
    expect(reconnectOnError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
  });
});

describe('the zero-config start', () => {
  it('brings its own redis-server only when neither REDIS_URL nor sentinels are configured', () => {
    expect(needsPrivateRedis({})).toBe(true);
    expect(needsPrivateRedis({ REDIS_URL: '' })).toBe(true);
    expect(needsPrivateRedis({ REDIS_URL: 'redis://127.0.0.1:6379' })).toBe(false);
    expect(needsPrivateRedis({ REDIS_SENTINELS: '10.0.0.1:26379', REDIS_SENTINEL_NAME: 'dokubox' })).toBe(false);
  });
});
