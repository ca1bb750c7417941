import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { SoapCallbackClient } from '../../adapters/case-system/callback-client.js';
import { CaseSystemReportQueue, reportFor, type ReportLedger } from '../../src/case-system/reports.js';
import { ManualClock } from '../../src/core/clock.js';
import type { PickupEvent } from '../../src/core/events.js';
import type { PickupState, TransitionReason } from '../../src/core/pickup.js';
import type { EventHandler, EventSubscriber } from '../../src/service/types.js';
import { PickupStore } from '../../src/store/pickup-store.js';
import { startCallbackServer, type CallbackServer } from '../../simulator/case-system/callback-server.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Hand-made events of one pickup's life: created, reserved, loaded, notified, collected. */
function lifecycle(pickupId: string, messageId: string): PickupEvent[] {
  const steps: [PickupState | null, PickupState, TransitionReason | 'notice_received', PickupEvent['type']][] = [
    [null, 'waiting', 'notice_received', 'pickup.created'],
    ['waiting', 'reserved', 'compartment_assigned', 'pickup.transitioned'],
    ['reserved', 'loaded', 'staff_loaded', 'pickup.transitioned'],
    ['loaded', 'notified', 'sms_accepted', 'pickup.transitioned'],
    ['notified', 'collected', 'code_verified_and_taken', 'pickup.transitioned'],
  ];
  return steps.map(([from, to, reason, type], i) => ({
    eventId: `${pickupId}-${i + 1}`,
    type,
    pickupId,
    authority: 'abh-magdeburg',
    boxId: 'mdb-foyer',
    messageId,
    from,
    to,
    reason,
    compartment: to === 'waiting' ? null : 'A-017',
    actor: 'system',
    at: `2026-01-05T08:0${i}:00.000Z`,
    seq: i + 1,
  }));
}

/**
 * Plays the store's part: an event is appended to the pickup's history (as
 * the store's scripts do, atomically with the state change) and then handed
 * to the subscribers, like the event stream does.
 */
class ManualEvents implements EventSubscriber {
  handlers: EventHandler[] = [];
  constructor(
    private readonly redis: Redis,
    private readonly ns: string,
  ) {}
  subscribe(_name: string, handler: EventHandler): void {
    this.handlers.push(handler);
  }
  /** Writes the event into the pickup's history (what the store does when the state changes). */
  async record(event: PickupEvent): Promise<void> {
    await this.redis.hset(`${this.ns}:pickup:${event.pickupId}`, 'state', event.to, 'seq', event.seq);
    await this.redis.rpush(`${this.ns}:history:${event.pickupId}`, JSON.stringify(event));
  }
  /** Hands a recorded event to the subscribers (what the event stream does, at least once, in any order across instances). */
  async deliver(event: PickupEvent): Promise<void> {
    for (const handler of this.handlers) await handler(event);
  }
  async emit(event: PickupEvent): Promise<void> {
    await this.record(event);
    await this.deliver(event);
  }
}

async function setup(options: { attempts?: number; timeoutMs?: number; serverWsse?: { username: string; password: string }; clientWsse?: { username: string; password: string }; ledger?: (store: PickupStore) => ReportLedger } = {}): Promise<{ queue: CaseSystemReportQueue; callback: CallbackServer; events: ManualEvents; redis: Redis; prefix: string }> {
  const url = inject('redisUrl');
  const redis = new Redis(url);
  const callback = await startCallbackServer(options.serverWsse ? { wsse: options.serverWsse } : {});
  const id = randomUUID().slice(0, 8);
  const prefix = `test:${id}:`;
  const ns = `test-${id}`;
  const queue = new CaseSystemReportQueue({
    ledger: options.ledger ? options.ledger(new PickupStore(redis, ns)) : new PickupStore(redis, ns),
    redis,
    connection: { url, maxRetriesPerRequest: null },
    prefix,
    queueName: `case-reports-${id}`,
    targets: (authority) => (authority === 'abh-magdeburg' ? { url: callback.url, timeoutMs: options.timeoutMs ?? 2000, ...(options.clientWsse ? { wsse: options.clientWsse } : {}) } : undefined),
    deliverer: new SoapCallbackClient(),
    clock: new ManualClock(),
    logger: pino({ level: 'silent' }),
    attempts: options.attempts ?? 5,
    backoffMs: 20,
  });
  const events = new ManualEvents(redis, ns);
  queue.attach(events);
  queue.start();
  const obliterate = async (): Promise<void> => {
    const bull = new Queue(`case-reports-${id}`, { connection: { url } });
    await bull.obliterate({ force: true });
    await bull.close();
    const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`${ns}:*`))];
    if (keys.length > 0) await redis.del(...keys);
  };
  // Run in reverse: close the worker, then remove the queue and keys, then the connections.
  cleanups.push(() => redis.quit(), () => callback.close(), obliterate, () => queue.close());
  return { queue, callback, events, redis, prefix };
}

describe('status reports to the case system', () => {
  it('translates events: collected carries the verification method, SMS events by their reason, compartment changes are not reported', () => {
    const events = lifecycle('p-x', 'm-x');
    expect(reportFor(events[4] as PickupEvent)).toMatchObject({ status: 'collected', verificationMethod: 'sms-code+date-of-birth', messageId: 'm-x', seq: 5 });
    // At a box with a policy the method names its steps (core/pickup-policy.ts verificationMethodOf).
    expect(reportFor(events[4] as PickupEvent, () => 'sms-code+mobile')?.verificationMethod).toBe('sms-code+mobile');
    expect(reportFor({ ...(events[1] as PickupEvent), type: 'compartment.changed' })).toBeUndefined();
    expect(reportFor({ ...(events[3] as PickupEvent), type: 'pickup.sms', reason: 'sms_failed' })?.status).toBe('smsFailed');
    expect(reportFor({ ...(events[3] as PickupEvent), type: 'pickup.sms', reason: 'sms_delivered' })?.status).toBe('smsDelivered');
    expect(reportFor({ ...(events[3] as PickupEvent), type: 'pickup.sms', reason: 'sms_undeliverable' })?.status).toBe('smsUndeliverable');
    expect(reportFor({ ...(events[3] as PickupEvent), type: 'pickup.sms', reason: 'reminder_sent' })?.status).toBe('reminderSent');
  });

  it('delivers every report of a pickup in order over SOAP, repeats of an event id only once', async () => {
    const { callback, events } = await setup();
    const all = lifecycle('p-1', 'ADVIS-1');
    for (const event of all) await events.emit(event);
    await events.deliver(all[2] as PickupEvent);
    const reports = await callback.waitForReports(5);
    expect(reports.map((r) => r.status)).toEqual(['waiting', 'reserved', 'loaded', 'notified', 'collected']);
    expect(reports.every((r) => r.messageId === 'ADVIS-1')).toBe(true);
    expect(reports[4]?.verificationMethod).toBe('sms-code+date-of-birth');
    expect(new Set(reports.map((r) => r.eventId)).size).toBe(5);
  });

  it('retries after 500s and timeouts, keeps the order and delivers each report once', async () => {
    const { callback, events } = await setup({ timeoutMs: 300 });
    callback.script('http500', 'timeout', 'http500');
    const all = lifecycle('p-2', 'ADVIS-2');
    for (const event of all) await events.emit(event);
    const reports = await callback.waitForReports(5);
    expect(reports.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(callback.attempts.slice(0, 4).map((a) => a.answer)).toEqual(['http500', 'timeout', 'http500', 'ok']);
    expect(callback.attempts.slice(0, 4).every((a) => a.eventId === 'p-2-1')).toBe(true);
  });

  it('permanent failure -> dead letter (later reports wait) -> replay delivers all in order', async () => {
    const { queue, callback, events } = await setup({ attempts: 3 });
    callback.script('http500', 'http500', 'http500');
    const deadLetter = once(queue, 'dead');
    const all = lifecycle('p-3', 'ADVIS-3');
    await events.emit(all[0] as PickupEvent);
    await deadLetter;
    const dead = await queue.listDeadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ pickupId: 'p-3', attempts: 3, report: { eventId: 'p-3-1', status: 'waiting' } });
    await events.emit(all[1] as PickupEvent);
    expect((await queue.listDeadLetters())[0]?.waiting).toBe(2);
    expect(callback.reports).toHaveLength(0);
    expect(await queue.replayDeadLetter('p-3')).toBe(true);
    const reports = await callback.waitForReports(2);
    expect(reports.map((r) => r.status)).toEqual(['waiting', 'reserved']);
    expect(await queue.listDeadLetters()).toHaveLength(0);
    expect(await queue.replayDeadLetter('p-3')).toBe(false);
  });

  it('a client fault from the case system goes to the dead letters without retries', async () => {
    const { queue, callback, events } = await setup();
    callback.script('clientFault');
    const deadLetter = once(queue, 'dead');
    await events.emit(lifecycle('p-4', 'ADVIS-4')[0] as PickupEvent);
    await deadLetter;
    const dead = await queue.listDeadLetters();
    expect(dead[0]?.attempts).toBe(1);
    expect(callback.attempts).toHaveLength(1);
  });

  it('signs reports with a WS-Security UsernameToken the receiver verifies; a wrong password ends as a dead letter', async () => {
    const credentials = { username: 'dokubox', password: 'callback-secret-1' };
    const { callback, events } = await setup({ serverWsse: credentials, clientWsse: credentials });
    await events.emit(lifecycle('p-5', 'ADVIS-5')[0] as PickupEvent);
    const [report] = await callback.waitForReports(1);
    expect(report?.secured).toBe(true);

    const wrong = await setup({ serverWsse: credentials, clientWsse: { username: 'dokubox', password: 'not-the-secret' } });
    const deadLetter = once(wrong.queue, 'dead');
    await wrong.events.emit(lifecycle('p-6', 'ADVIS-6')[0] as PickupEvent);
    await deadLetter;
    expect(wrong.callback.reports).toHaveLength(0);
  });

  it('pickups do not wait for each other, and each keeps its own order', async () => {
    const { callback, events } = await setup();
    const a = lifecycle('p-7', 'ADVIS-7');
    const b = lifecycle('p-8', 'ADVIS-8');
    for (let i = 0; i < a.length; i++) {
      await events.emit(a[i] as PickupEvent);
      await events.emit(b[i] as PickupEvent);
    }
    const reports = await callback.waitForReports(10);
    expect(reports.filter((r) => r.pickupId === 'p-7').map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(reports.filter((r) => r.pickupId === 'p-8').map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps the order of a pickup when its events reach the queue in any order (several instances, a claimed event)', async () => {
    const { callback, events } = await setup();
    const all = lifecycle('p-9', 'ADVIS-9');
    for (const event of all) await events.record(event);
    for (const event of [...all].reverse()) await events.deliver(event);
    const reports = await callback.waitForReports(5);
    expect(reports.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(callback.attempts.map((a) => a.eventId)).toEqual(all.map((e) => e.eventId));
  });

  it('repeats a report whose answer was lost with the same event id, before any later report', async () => {
    const { callback, events } = await setup({ timeoutMs: 300 });
    // The case system takes the report but the answer never comes back: from our side it is a timeout.
    callback.script('timeout');
    const all = lifecycle('p-10', 'ADVIS-10');
    for (const event of all.slice(0, 3)) await events.emit(event);
    await callback.waitForAttempts(4);
    expect(callback.attempts.map((a) => a.eventId)).toEqual(['p-10-1', 'p-10-1', 'p-10-2', 'p-10-3']);
  });

  it('a report waiting for its predecessor uses none of its attempts', async () => {
    const { queue, callback, events } = await setup({ attempts: 4 });
    callback.script('http500', 'http500', 'http500');
    const all = lifecycle('p-11', 'ADVIS-11');
    for (const event of all.slice(0, 2)) await events.emit(event);
    const reports = await callback.waitForReports(2);
    expect(reports.map((r) => r.seq)).toEqual([1, 2]);
    expect(callback.attempts.filter((a) => a.eventId === 'p-11-2')).toHaveLength(1);
    expect(await queue.listDeadLetters()).toHaveLength(0);
  });

  it('a report BullMQ gives up on for an internal error ends as a dead letter, not lost', async () => {
    // The case system takes the report every time, but recording that it did keeps failing (e.g. Redis trouble).
    const { queue, events } = await setup({
      attempts: 2,
      ledger: (store) => ({
        history: (id) => store.history(id),
        reportedSeq: (id) => store.reportedSeq(id),
        markReported: async () => {
          throw new Error('cursor not written');
        },
      }),
    });
    const deadLetter = once(queue, 'dead');
    await events.emit(lifecycle('p-12', 'ADVIS-12')[0] as PickupEvent);
    await deadLetter;
    expect(await queue.listDeadLetters()).toMatchObject([{ pickupId: 'p-12', report: { eventId: 'p-12-1' }, error: 'not delivered: cursor not written' }]);
  });
});
