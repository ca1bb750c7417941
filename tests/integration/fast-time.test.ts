/**
 * Fast time: with SIMULATED_TIME the middleware takes its clock from the
 * world clock in Redis, and a pickup's weeks play out in moments. The world
 * clock stands still here (speed 0) and only jumps, so every step happens
 * exactly when the simulated calendar says, never because real time passed:
 * the periodic sweep, BullMQ delays and quiet hours all follow the jumps.
 */
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySmsGateway } from '../../adapters/sms/memory/index.js';
import { clockSweepJobId } from '../../src/jobs/maintenance.js';
import { createLogger } from '../../src/logger.js';
import { createDokubox, type Dokubox } from '../../src/main.js';
import type { ClientIdentity } from '../../src/service/types.js';
import { smsJobId } from '../../src/sms/queue.js';
import type { WorldClock } from '../../src/store/world-clock.js';
import { AUTHORITY, notice, testConfig } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

/** Resolves `wait(id)` once a job of that id completed (also when it completed before the call). */
class Completions<T = unknown> {
  private readonly done = new Map<string, T>();
  private readonly waiters = new Map<string, (result: T) => void>();

  record(id: string | undefined, result: T): void {
    if (id === undefined) return;
    this.done.set(id, result);
    this.waiters.get(id)?.(result);
  }

  wait(id: string): Promise<T> {
    if (this.done.has(id)) return Promise.resolve(this.done.get(id) as T);
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }
}

interface SimulatedWorld {
  dokubox: Dokubox;
  clock: WorldClock;
  gateway: MemorySmsGateway;
  sms: Completions;
  sweeps: Completions<{ expired: number; reminders: number }>;
  /** Jumps the world clock to `at` and resolves with the result of the sweep that follows the jump. */
  jump(at: string): Promise<{ expired: number; reminders: number }>;
  close(): Promise<void>;
}

let world: SimulatedWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** The middleware as `npm start` runs it in simulated time, paused at `start`: SMS worker and maintenance sweep running. */
async function simulatedWorld(start: string): Promise<SimulatedWorld> {
  const gateway = new MemorySmsGateway();
  const config = testConfig({ SIMULATED_TIME: 'true', SIMULATED_TIME_START: start, SIMULATED_TIME_SPEED: '0', EXPIRY_SWEEP_INTERVAL_MS: '3600000' });
  const dokubox = await createDokubox(config, { logger: createLogger({ level: 'silent' }), background: false, smsGateway: gateway });
  await dokubox.events.init();
  const clock = dokubox.worldClock as WorldClock;
  const sms = new Completions();
  dokubox.sms.start().on('completed', (job) => sms.record(job.id, undefined));
  const sweeps = new Completions<{ expired: number; reminders: number }>();
  await dokubox.maintenance.start();
  dokubox.maintenance.worker?.on('completed', (job, result: { expired: number; reminders: number }) => sweeps.record(job.id, result));
  return {
    dokubox,
    clock,
    gateway,
    sms,
    sweeps,
    async jump(at) {
      const state = await clock.set({ at });
      return sweeps.wait(clockSweepJobId(state));
    },
    async close() {
      const keys = await dokubox.redis.keys(`${config.REDIS_KEY_PREFIX}:*`);
      if (keys.length > 0) await dokubox.redis.del(...keys);
      await dokubox.close();
    },
  };
}

const iso = (ms: number | undefined): string => new Date(ms ?? 0).toISOString();

describe('fast time', () => {
  it('reminds about and expires a pickup nobody collects at the right simulated moments, across a weekend and Christmas', async () => {
    // Wednesday 16 December 2026, 10:00 in Magdeburg (Sachsen-Anhalt); the box's deadline is 7 working days.
    world = await simulatedWorld('2026-12-16T10:00:00+01:00');
    const { dokubox, gateway, sms, jump } = world;
    expect(iso(world.clock.now())).toBe('2026-12-16T09:00:00.000Z');

    const { pickup } = await dokubox.service.submitNotice(caseSystem, notice());
    await dokubox.service.markLoaded(pickup.id, 'staff:s1');
    await dokubox.events.drain();
    await sms.wait(smsJobId(pickup.id, 'ready'));
    await dokubox.events.drain(); // notified: the reminder is scheduled

    // 17, 18, 21, 22, 23, 24 and (after Christmas Day, a public holiday, and the weekend) 28 December: closing time 19:30.
    const notified = await dokubox.store.get(pickup.id);
    expect(notified?.state).toBe('notified');
    expect(iso(notified?.deadline)).toBe('2026-12-28T18:30:00.000Z');

    // The reminder: two working days before the deadline (24 and 23 December), at the deadline's time of day.
    expect(await jump('2026-12-23T19:29:59+01:00')).toEqual({ expired: 0, reminders: 0 });
    expect(await dokubox.sms.queue.getJob(smsJobId(pickup.id, 'reminder'))).toBeUndefined();
    expect(await jump('2026-12-23T19:30:00+01:00')).toEqual({ expired: 0, reminders: 1 });
    await sms.wait(smsJobId(pickup.id, 'reminder'));
    expect(gateway.sent.map((m) => m.foreignId)).toEqual([`${pickup.id}.ready`, `${pickup.id}.reminder`]);
    const reminded = (await dokubox.store.history(pickup.id)).find((e) => e.reason === 'reminder_sent');
    expect(reminded?.at).toBe('2026-12-23T18:30:00.000Z');

    // Over Christmas and the weekend to the deadline: expired at its very moment, not a second before.
    expect(await jump('2026-12-28T19:29:59+01:00')).toEqual({ expired: 0, reminders: 0 });
    expect((await dokubox.store.get(pickup.id))?.state).toBe('notified');
    expect(await jump('2026-12-28T19:30:00+01:00')).toEqual({ expired: 1, reminders: 0 });
    const history = await dokubox.store.history(pickup.id);
    expect((await dokubox.store.get(pickup.id))?.state).toBe('expired');
    expect(history.find((e) => e.reason === 'deadline_passed')?.at).toBe('2026-12-28T18:30:00.000Z');

    // The applicant is told, at once in the simulated evening.
    await dokubox.events.drain();
    await sms.wait(smsJobId(pickup.id, 'expired'));
    expect(gateway.sent.map((m) => m.foreignId)).toEqual([`${pickup.id}.ready`, `${pickup.id}.reminder`, `${pickup.id}.expired`]);
  });

  it('sends an SMS held in quiet hours when simulated time reaches 08:00, not after real hours', async () => {
    // Monday 14 December 2026, 21:00 in Magdeburg: quiet hours (20:00-08:00).
    world = await simulatedWorld('2026-12-14T21:00:00+01:00');
    const { dokubox, gateway, sms, clock } = world;
    const readyId = (pickupId: string): string => smsJobId(pickupId, 'ready');
    const connection = new Redis(dokubox.config.REDIS_URL as string, { maxRetriesPerRequest: null });
    const events = new QueueEvents('sms', { connection, prefix: `${dokubox.config.REDIS_KEY_PREFIX}:bull` });
    try {
      await events.waitUntilReady();
      let delays = 0;
      let onDelay: (() => void) | undefined;
      events.on('delayed', () => {
        delays += 1;
        onDelay?.();
      });
      const delayed = (count: number): Promise<void> => (delays >= count ? Promise.resolve() : new Promise((resolve) => (onDelay = () => delays >= count && resolve())));

      const { pickup } = await dokubox.service.submitNotice(caseSystem, notice());
      await dokubox.service.markLoaded(pickup.id, 'staff:s1');
      await dokubox.events.drain();
      await delayed(1);
      expect(gateway.sent).toEqual([]);

      // A minute before the end of quiet hours the message looks again, and waits again.
      await clock.set({ at: '2026-12-15T07:59:00+01:00' });
      await delayed(2);
      expect(await dokubox.sms.queue.getJobState(readyId(pickup.id))).toBe('delayed');
      expect(gateway.sent).toEqual([]);

      await clock.set({ at: '2026-12-15T08:00:00+01:00' });
      await sms.wait(readyId(pickup.id));
      expect(gateway.sent.map((m) => m.foreignId)).toEqual([readyId(pickup.id)]);
      const notified = (await dokubox.store.history(pickup.id)).find((e) => e.reason === 'sms_accepted');
      expect(notified?.at).toBe('2026-12-15T07:00:00.000Z');
    } finally {
      await events.close();
      await connection.quit();
    }
  });
});
