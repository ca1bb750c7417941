import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../src/cli/redis-server.js';
import { AttemptLimiter } from '../../src/kiosk/attempts.js';
import { kioskRedis, type KioskRedis } from '../support/kiosk-redis.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T09:00:00Z');

let store: KioskRedis;
let limiter: AttemptLimiter;
let devices = 0;
/** A fresh device id per test. */
const device = (): string => `kiosk-${(devices += 1).toString(16).padStart(8, '0')}`;

beforeAll(() => {
  store = kioskRedis('attempts');
  limiter = new AttemptLimiter(store.redis, store.ns);
});

afterAll(async () => {
  await store?.close();
});

/** Records `n` failures one second apart from `start`; returns the last outcome. */
async function fail(deviceId: string, n: number, start: number, pickupId?: string) {
  let last;
  for (let i = 0; i < n; i += 1) last = await limiter.recordFailure(deviceId, pickupId, start + i * 1000);
  if (last === undefined) throw new Error('no failure recorded');
  return last;
}

async function livePickup(id: string): Promise<string> {
  await store.redis.hset(`${store.ns}:pickup:${id}`, 'state', 'notified', 'boxId', 'md-foyer');
  return `${store.ns}:pickup:${id}`;
}

describe('device pauses', () => {
  it('pauses a device for a minute at the fifth failure within the window and clears its window', async () => {
    const d = device();
    const fourth = await fail(d, 4, T0);
    expect(fourth).toEqual({ paused: undefined, pickupBlocked: false, failures: 4 });
    expect(await limiter.status(d, T0 + 4000)).toEqual({ paused: false, failures: 4 });
    const fifth = await limiter.recordFailure(d, undefined, T0 + 5000);
    expect(fifth).toEqual({ paused: { until: T0 + 5000 + MINUTE, level: 1 }, pickupBlocked: false, failures: 0 });
    expect(await limiter.status(d, T0 + 5000 + MINUTE - 1)).toEqual({ paused: true, until: T0 + 5000 + MINUTE, level: 1 });
    expect(await limiter.status(d, T0 + 5000 + MINUTE)).toEqual({ paused: false, failures: 0 });
  });

  it('escalates the pauses 1, 5, 15, 60 minutes and then stays at 60', async () => {
    const d = device();
    let now = T0;
    const seen: [number, number][] = [];
    for (let i = 0; i < 6; i += 1) {
      const outcome = await fail(d, 5, now);
      if (outcome.paused === undefined) throw new Error('expected a pause');
      const started = now + 4000;
      seen.push([outcome.paused.level, (outcome.paused.until - started) / MINUTE]);
      now = outcome.paused.until;
    }
    expect(seen).toEqual([
      [1, 1],
      [2, 5],
      [3, 15],
      [4, 60],
      [4, 60],
      [4, 60],
    ]);
  });

  it('does not count failures recorded while the device is paused and answers the running pause', async () => {
    const d = device();
    const pause = (await fail(d, 5, T0)).paused;
    const during = await limiter.recordFailure(d, undefined, T0 + 10_000);
    expect(during).toEqual({ paused: pause, pickupBlocked: false, failures: 0 });
    expect(await limiter.status(d, pause!.until)).toEqual({ paused: false, failures: 0 });
  });

  it('forgets failures older than the 15-minute window', async () => {
    const d = device();
    for (const minute of [0, 1, 2, 3]) await limiter.recordFailure(d, undefined, T0 + minute * MINUTE);
    // The failure at T0 is exactly 15 minutes old: it no longer counts.
    expect(await limiter.status(d, T0 + 15 * MINUTE)).toEqual({ paused: false, failures: 3 });
    expect(await limiter.recordFailure(d, undefined, T0 + 15 * MINUTE)).toMatchObject({ paused: undefined, failures: 4 });
    expect(await limiter.recordFailure(d, undefined, T0 + 16 * MINUTE)).toMatchObject({ paused: undefined, failures: 4 });
    expect(await limiter.status(d, T0 + 40 * MINUTE)).toEqual({ paused: false, failures: 0 });
  });

  it('lets staff release a paused device: the pause ends and the window is cleared, the level stays', async () => {
    const d = device();
    const first = (await fail(d, 5, T0)).paused!;
    expect(await limiter.release(d, T0 + 10_000)).toBe(true);
    expect(await limiter.status(d, T0 + 10_000)).toEqual({ paused: false, failures: 0 });
    expect(first.level).toBe(1);
    expect((await fail(d, 4, T0 + 20_000)).paused).toBeUndefined();
    await limiter.recordFailure(d, undefined, T0 + 30_000);
    expect(await limiter.release(d, T0 + 31_000)).toBe(true);
    const next = await fail(d, 5, T0 + 40_000);
    expect(next.paused).toEqual({ until: T0 + 44_000 + 15 * MINUTE, level: 3 });
    expect(await limiter.release(d, T0 + 44_000 + 15 * MINUTE)).toBe(false);
  });

  it('forgets the escalation level 24 hours after the last pause ended', async () => {
    const kept = device();
    const forgotten = device();
    for (const d of [kept, forgotten]) {
      const p = (await fail(d, 5, T0)).paused!;
      expect(p.level).toBe(1);
    }
    const ended = T0 + 4000 + MINUTE;
    expect((await fail(kept, 5, ended + 24 * 60 * MINUTE - 10_000)).paused?.level).toBe(2);
    expect((await fail(forgotten, 5, ended + 24 * 60 * MINUTE)).paused?.level).toBe(1);
  });
});

describe('blocking a code', () => {
  it('blocks a live code at its third failed second factor and says so only once', async () => {
    const d = device();
    const key = await livePickup('pk-block');
    expect((await limiter.recordFailure(d, 'pk-block', T0)).pickupBlocked).toBe(false);
    expect((await limiter.recordFailure(d, 'pk-block', T0 + 1000)).pickupBlocked).toBe(false);
    expect(await store.redis.hget(key, 'codeBlocked')).toBeNull();
    expect((await limiter.recordFailure(d, 'pk-block', T0 + 2000)).pickupBlocked).toBe(true);
    expect(await store.redis.hmget(key, 'verifyFailures', 'codeBlocked')).toEqual(['3', '1']);
    expect((await limiter.recordFailure(d, 'pk-block', T0 + 3000)).pickupBlocked).toBe(false);
    expect(await store.redis.hget(key, 'codeBlocked')).toBe('1');
    expect(await store.redis.hget(key, 'state')).toBe('notified');
  });

  it('counts failures of a code from several devices together, also while a device is paused', async () => {
    const key = await livePickup('pk-spread');
    const paused = device();
    await fail(paused, 5, T0);
    expect((await limiter.recordFailure(paused, 'pk-spread', T0 + 10_000)).paused).toBeDefined();
    expect((await limiter.recordFailure(device(), 'pk-spread', T0 + 11_000)).pickupBlocked).toBe(false);
    expect((await limiter.recordFailure(device(), 'pk-spread', T0 + 12_000)).pickupBlocked).toBe(true);
    expect(await store.redis.hget(key, 'codeBlocked')).toBe('1');
  });

  it('never creates a pickup hash for an unknown pickup id', async () => {
    const d = device();
    for (let i = 0; i < 4; i += 1) expect((await limiter.recordFailure(d, 'pk-does-not-exist', T0 + i)).pickupBlocked).toBe(false);
    expect(await store.redis.exists(`${store.ns}:pickup:pk-does-not-exist`)).toBe(0);
  });

  it('forgets failed second factors after a correct entry, but not the device window', async () => {
    const d = device();
    const key = await livePickup('pk-success');
    await fail(d, 2, T0, 'pk-success');
    await limiter.recordSuccess(d, 'pk-success', T0 + 5000);
    expect(await store.redis.hget(key, 'verifyFailures')).toBeNull();
    expect(await limiter.status(d, T0 + 5000)).toEqual({ paused: false, failures: 2 });
    await fail(d, 2, T0 + 6000, 'pk-success');
    expect(await store.redis.hget(key, 'codeBlocked')).toBeNull();
    await limiter.recordSuccess(d, 'pk-gone', T0);
    expect(await store.redis.exists(`${store.ns}:pickup:pk-gone`)).toBe(0);
  });

  it('writes only device keys, the decoy and existing pickup hashes', async () => {
    const keys = await store.keys();
    const layout = new RegExp(`^${store.ns}:(kiosk:attempts:kiosk-[0-9a-f]{8}(:window)?|kiosk:decoy|pickup:pk-(block|spread|success))$`);
    expect(keys.filter((k) => !layout.test(k))).toEqual([]);
  });
});

describe('no timing oracle for codes', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let admin: Redis;
  let own: AttemptLimiter;
  const ns = 'work';

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    admin = new Redis(server.url);
    own = new AttemptLimiter(redis, ns);
    await redis.hset(`${ns}:pickup:pk-live`, 'state', 'notified');
    await redis.hset(`${ns}:pickup:pk-third`, 'state', 'notified', 'verifyFailures', '2');
  });

  afterAll(async () => {
    try {
      redis?.disconnect();
      admin?.disconnect();
    } finally {
      await server?.stop();
    }
  });

  /** The commands the server ran (also inside the script) for one failure. */
  async function workOf(deviceId: string, pickupId: string | undefined): Promise<Record<string, number>> {
    await admin.config('RESETSTAT');
    await own.recordFailure(deviceId, pickupId, T0);
    const info = await admin.info('commandstats');
    const counts: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (!/^(info|config)\b/.test(m[1] ?? '')) counts[m[1] ?? ''] = Number(m[2]);
    }
    return counts;
  }

  it('runs the same Redis commands whether no code, an unknown pickup, a live pickup or the blocking failure is recorded', async () => {
    // Warm up the script cache so that no path pays for SCRIPT LOAD.
    await own.recordFailure('kiosk-warm', undefined, T0);
    const none = await workOf('kiosk-a', undefined);
    const unknown = await workOf('kiosk-b', 'pk-unknown');
    const live = await workOf('kiosk-c', 'pk-live');
    const blocking = await workOf('kiosk-d', 'pk-third');
    expect(none.hincrby).toBe(2);
    expect(unknown).toEqual(none);
    expect(live).toEqual(none);
    expect(blocking).toEqual(none);
    expect(await redis.hget(`${ns}:pickup:pk-third`, 'codeBlocked')).toBe('1');
    expect(await redis.exists(`${ns}:pickup:pk-unknown`)).toBe(0);
  });
});
