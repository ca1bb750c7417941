/**
 * Gateway leases against a real Redis: one holder at a time, release on stop,
 * takeover when the holder dies, and a Kerong adapter that only talks to a
 * gateway while its instance holds the lease.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { GatewayLease, GatewayLeases } from '../../adapters/locker/lease.js';
import { KerongLocker } from '../../adapters/locker/kerong/index.js';
import type { LockerEvent } from '../../adapters/locker/types.js';
import { Cu16Emulator } from '../../simulator/locker/cu16-emulator.js';
import { gridLayout } from '../../simulator/locker/layouts.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function redis(): Redis {
  const client = new Redis(inject('redisUrl'), { lazyConnect: false, maxRetriesPerRequest: 1 });
  cleanups.push(() => client.quit());
  return client;
}

function lease(client: Redis, key: string, owner: string, ttlMs = 400, renewEveryMs = 60): GatewayLease {
  const l = new GatewayLease({ redis: client, key, owner, ttlMs, renewEveryMs, logger });
  cleanups.push(() => l.stop());
  return l;
}

/** Resolves after the lease finished `n` more rounds. */
async function rounds(l: GatewayLease, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await once(l, 'attempt');
}

describe('GatewayLease', () => {
  it('lets exactly one instance hold a gateway and hands over when the holder dies', async () => {
    const key = `test:${randomUUID()}:lease:gw1`;
    const a = lease(redis(), key, 'instance-a');
    const b = lease(redis(), key, 'instance-b');
    const acquiredA = once(a, 'acquired');
    a.start();
    await acquiredA;
    b.start();
    await rounds(b, 4);
    expect(a.held).toBe(true);
    expect(b.held).toBe(false);

    // The holder dies: it stops renewing without releasing.
    const started = performance.now();
    const acquiredB = once(b, 'acquired');
    await a.stop({ release: false });
    await acquiredB;
    const tookMs = performance.now() - started;
    expect(b.held).toBe(true);
    // Bound: one TTL plus a renew interval, with room for a busy test machine.
    expect(tookMs).toBeLessThan(400 * 3);
  });

  it('releases on stop so a standby takes over on its next round', async () => {
    const key = `test:${randomUUID()}:lease:gw1`;
    const client = redis();
    const a = lease(client, key, 'instance-a', 10_000, 50);
    const b = lease(client, key, 'instance-b', 10_000, 50);
    const acquiredA = once(a, 'acquired');
    a.start();
    await acquiredA;
    b.start();
    await rounds(b, 1);
    const acquiredB = once(b, 'acquired');
    const lostA = once(a, 'lost');
    await a.stop();
    expect(await lostA).toEqual(['released']);
    await acquiredB;
    expect(await client.get(key)).toBe('instance-b');
  });

  it('notices when the lease was taken away and stops claiming it', async () => {
    const key = `test:${randomUUID()}:lease:gw1`;
    const client = redis();
    const a = lease(client, key, 'instance-a');
    const acquired = once(a, 'acquired');
    a.start();
    await acquired;
    const lost = once(a, 'lost');
    await client.set(key, 'someone-else', 'PX', 5000);
    expect(await lost).toEqual(['renew_refused']);
    expect(a.held).toBe(false);
  });

  it('rejects timings that cannot work', () => {
    expect(() => new GatewayLease({ redis: {} as Redis, key: 'k', owner: 'o', ttlMs: 100, renewEveryMs: 100, logger })).toThrow(RangeError);
  });
});

describe('Kerong adapter behind gateway leases', () => {
  it('only the lease holder talks to the gateway; the standby takes over when it dies', async () => {
    const compartments = gridLayout({ count: 20, gateways: ['gw1'] });
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }], compartments });
    const gateways = await emulator.start();
    cleanups.push(() => emulator.stop());
    const prefix = `test:${randomUUID()}`;

    const instance = (owner: string) => {
      const locker = new KerongLocker({
        config: { gateways, pollIntervalMs: 20, replyTimeoutMs: 200, reconnectInitialMs: 20 },
        compartments,
        logger,
        autoConnect: false,
      });
      const leases = new GatewayLeases({ redis: redis(), keyPrefix: prefix, boxId: 'md-foyer', gatewayIds: ['gw1'], owner, ttlMs: 400, renewEveryMs: 60, logger });
      leases.bind(locker, logger);
      cleanups.push(async () => {
        await locker.stop();
        await leases.stop();
      });
      return { locker, leases };
    };

    const a = instance('instance-a');
    const onlineA = once(a.locker, 'event');
    await a.locker.start();
    a.leases.start();
    expect(((await onlineA) as [LockerEvent])[0]).toMatchObject({ type: 'board.online', gateway: 'gw1' });

    const b = instance('instance-b');
    await b.locker.start();
    b.leases.start();
    const leaseB = b.leases.leases.get('gw1')!;
    await rounds(leaseB, 3);
    expect(emulator.connectionCount('gw1')).toBe(1);
    await expect(b.locker.open('001')).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });

    // Instance A dies: its socket closes and its lease is no longer renewed.
    const onlineB = once(b.locker, 'event');
    await a.locker.stop();
    await a.leases.stop({ release: false });
    expect(((await onlineB) as [LockerEvent])[0]).toMatchObject({ type: 'board.online', gateway: 'gw1' });
    const unlocked = once(emulator, 'unlock');
    await b.locker.open('001');
    await unlocked;
    expect(emulator.door('001')).toBe('open');
  });
});
