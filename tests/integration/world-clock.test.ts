/**
 * The simulated world's clock in Redis (src/store/world-clock.ts): it runs
 * at its speed, jumps forward, never back, fires its timers in simulated
 * order, and every instance follows every change. Real time is a manual
 * clock here, so nothing waits.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { readWorldClock, setWorldClock, WorldClock, WorldClockError, worldClockKey, type WorldClockState } from '../../src/store/world-clock.js';
import { rejectionOf } from '../support/errors.js';

const REAL_START = '2026-06-01T10:00:00Z';
const SIM_START = Date.parse('2026-12-16T09:00:00Z');

let redis: Redis;
let ns: string;
let wall: ManualClock;
const open: WorldClock[] = [];

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(() => {
  ns = `t-${randomUUID().slice(0, 8)}`;
  wall = new ManualClock(REAL_START);
});
afterEach(async () => {
  for (const clock of open.splice(0)) await clock.close();
  await redis.del(worldClockKey(ns));
});

async function connect(options: { initial?: { at?: number | string; speed?: number } } = {}): Promise<WorldClock> {
  const clock = await WorldClock.connect({ redis, ns, wall, ...options });
  open.push(clock);
  return clock;
}

/** Resolves with `clock`'s state once it has heard of change `version`. */
function caughtUp(clock: WorldClock, version: number): Promise<WorldClockState> {
  if (clock.state().version >= version) return Promise.resolve(clock.state());
  return new Promise((resolve) => {
    const stop = clock.onChange((state) => {
      if (state.version < version) return;
      stop();
      resolve(state);
    });
  });
}

describe('the world clock', () => {
  it('starts a new world at real time and real speed', async () => {
    const clock = await connect();
    expect(clock.now()).toBe(wall.now());
    wall.advance(1500);
    expect(clock.now()).toBe(wall.now());
    expect(clock.state()).toMatchObject({ speed: 1, version: 0 });
  });

  it('starts a new world at the given date and speed, and a later instance takes the world as it is', async () => {
    const first = await connect({ initial: { at: SIM_START, speed: 0 } });
    wall.advance(60_000);
    expect(first.now()).toBe(SIM_START);
    const second = await connect({ initial: { at: '2030-01-01T00:00:00Z', speed: 5 } });
    expect(second.now()).toBe(SIM_START);
    expect(second.state().speed).toBe(0);
  });

  it('runs at its speed and jumps forward, keeping the speed', async () => {
    const clock = await connect({ initial: { at: SIM_START } });
    await clock.set({ speed: 3600 });
    wall.advance(1000);
    expect(clock.now()).toBe(SIM_START + 3_600_000);
    await clock.set({ at: '2026-12-24T08:00:00+01:00' });
    expect(clock.now()).toBe(Date.parse('2026-12-24T07:00:00Z'));
    wall.advance(10);
    expect(clock.now()).toBe(Date.parse('2026-12-24T07:00:36Z'));
    expect(clock.state()).toMatchObject({ speed: 3600, version: 2 });
  });

  it('moves only by jumps while paused', async () => {
    const clock = await connect({ initial: { at: SIM_START, speed: 0 } });
    wall.advance(3_600_000);
    expect(clock.now()).toBe(SIM_START);
    await clock.set({ at: SIM_START + 86_400_000 });
    wall.advance(3_600_000);
    expect(clock.now()).toBe(SIM_START + 86_400_000);
  });

  it('says how long a simulated delay takes in real time', async () => {
    const clock = await connect({ initial: { at: SIM_START, speed: 3600 } });
    expect(clock.realMs(2 * 3_600_000)).toBe(2000);
    expect(clock.realMs(1)).toBe(1);
    expect(clock.realMs(-5)).toBe(0);
    await clock.set({ speed: 0 });
    expect(clock.realMs(2 * 3_600_000)).toBe(2 * 3_600_000);
  });

  it('fires the timers a jump passes, in simulated order, and keeps the later ones', async () => {
    const clock = await connect({ initial: { at: SIM_START, speed: 0 } });
    const fired: string[] = [];
    clock.setTimer(3000, () => fired.push(`c at ${clock.now() - SIM_START}`));
    clock.setTimer(1000, () => fired.push('a'));
    clock.setTimer(2000, () => fired.push('b'));
    clock.setTimer(10_000, () => fired.push('late'));
    clock.setTimer(2500, () => fired.push('cancelled')).cancel();
    wall.advance(86_400_000);
    expect(fired).toEqual([]);
    await clock.set({ at: SIM_START + 5000 });
    expect(fired).toEqual(['a', 'b', 'c at 5000']);
    await clock.set({ at: SIM_START + 10_000 });
    expect(fired).toEqual(['a', 'b', 'c at 5000', 'late']);
  });

  it('fires a timer after its simulated delay divided by the speed in real time, re-armed when the speed changes', async () => {
    const clock = await connect({ initial: { at: SIM_START, speed: 60 } });
    let fired = 0;
    clock.setTimer(120_000, () => (fired += 1)); // two simulated minutes: two real seconds at 60x
    wall.advance(1000);
    expect(fired).toBe(0);
    await clock.set({ speed: 120 }); // one simulated minute left: half a real second
    wall.advance(499);
    expect(fired).toBe(0);
    wall.advance(1);
    expect(fired).toBe(1);
  });

  it('waits longer than one real timeout can (about 24.8 days) in real time', async () => {
    const clock = await connect({ initial: { at: SIM_START } });
    let fired = false;
    clock.setTimer(30 * 86_400_000, () => (fired = true));
    wall.advance(25 * 86_400_000);
    expect(fired).toBe(false);
    wall.advance(5 * 86_400_000);
    expect(fired).toBe(true);
  });

  it('shows a change made through one instance to the others at once, timers included', async () => {
    const one = await connect({ initial: { at: SIM_START, speed: 0 } });
    const two = await connect();
    let fired = false;
    two.setTimer(60_000, () => (fired = true));
    const state = await setWorldClock(redis, ns, { at: SIM_START + 60_000 }, { wall });
    expect(await caughtUp(two, state.version)).toEqual(state);
    expect(two.now()).toBe(SIM_START + 60_000);
    expect(fired).toBe(true);
    const { version } = await two.set({ speed: 2 });
    expect((await caughtUp(one, version)).speed).toBe(2);
    wall.advance(1000);
    expect(one.now()).toBe(SIM_START + 62_000);
  });

  it('loses no change when two arrive at the same time', async () => {
    await connect({ initial: { at: SIM_START, speed: 0 } });
    await Promise.all([setWorldClock(redis, ns, { at: SIM_START + 1000 }, { wall }), setWorldClock(redis, ns, { speed: 10 }, { wall })]);
    expect(await readWorldClock(redis, ns, { wall })).toMatchObject({ simAnchor: SIM_START + 1000, speed: 10, version: 2 });
  });

  it('refuses to go back, and the clock stays where it was', async () => {
    const clock = await connect({ initial: { at: SIM_START, speed: 0 } });
    await clock.set({ at: SIM_START + 5000 });
    const error = await rejectionOf(clock.set({ at: SIM_START + 4999, speed: 10 }), WorldClockError);
    expect(error.code).toBe('CLOCK_BACKWARDS');
    expect(error.message).toContain('2026-12-16T09:00:05.000Z');
    expect(clock.now()).toBe(SIM_START + 5000);
    expect(await readWorldClock(redis, ns, { wall })).toMatchObject({ simAnchor: SIM_START + 5000, speed: 0, version: 1 });
  });

  it.each([
    [{ speed: -1 }],
    [{ speed: 100_001 }],
    [{ speed: Number.NaN }],
    [{ at: '2026-12-24T08:00:00' }],
    [{ at: 'Christmas' }],
    [{}],
  ])('refuses the change %j with a clear error', async (change) => {
    const clock = await connect({ initial: { at: SIM_START, speed: 0 } });
    const error = await rejectionOf(clock.set(change), WorldClockError);
    expect(error.code).toBe('CLOCK_INVALID');
    expect(error.message).toMatch(/world clock/);
    expect(clock.state().version).toBe(0);
  });
});
