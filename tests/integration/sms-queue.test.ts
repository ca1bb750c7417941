import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { SmsSendError, type DeliveryReportListener, type SmsGateway, type SmsMessage, type SmsSendResult } from '../../adapters/sms/types.js';
import { DEFAULT_OPENING_HOURS } from '../../src/core/calendar.js';
import { ManualClock } from '../../src/core/clock.js';
import { SmsQueue, type SmsOutcome, type SmsQueueOptions, type SmsRecipient } from '../../src/sms/queue.js';
import { loadSmsTemplates } from '../../src/sms/template-loader.js';
import type { SmsKind } from '../../src/sms/templates.js';

const logger = pino({ level: 'silent' });
const templates = loadSmsTemplates();
const MOBILE = '+4915112345678';
const CODE = '482913';

type Behaviour = (message: SmsMessage) => Promise<SmsSendResult>;

/** A gateway that records every message it accepted and can be scripted per call. */
class FakeGateway implements SmsGateway {
  readonly name = 'fake';
  readonly accepted: SmsMessage[] = [];
  readonly calls: { message: SmsMessage; at: number }[] = [];
  private readonly script: Behaviour[] = [];
  private counter = 0;

  then(...behaviours: Behaviour[]): this {
    this.script.push(...behaviours);
    return this;
  }

  accept: Behaviour = async (message) => {
    this.accepted.push(message);
    this.counter += 1;
    return { providerMessageId: `m-${this.counter}`, parts: 1, encoding: 'gsm' };
  };

  private callWaiters: { count: number; resolve: () => void }[] = [];

  /** Resolves once `count` requests reached the gateway. */
  waitForCalls(count: number): Promise<void> {
    if (this.calls.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.callWaiters.push({ count, resolve }));
  }

  async send(message: SmsMessage): Promise<SmsSendResult> {
    this.calls.push({ message, at: performance.now() });
    this.callWaiters = this.callWaiters.filter((w) => (this.calls.length >= w.count ? (w.resolve(), false) : true));
    const next = this.script.shift() ?? this.accept;
    return next(message);
  }

  onDeliveryReport(_listener: DeliveryReportListener): () => void {
    return () => {};
  }

  async close(): Promise<void> {}
}

const hang: Behaviour = () => new Promise<never>(() => {});
const fail = (reason: ConstructorParameters<typeof SmsSendError>[0], providerCode?: string): Behaviour => async () => {
  throw new SmsSendError(reason, `test ${reason}`, providerCode === undefined ? {} : { providerCode });
};

interface Outcomes {
  list: { pickupId: string; kind: SmsKind; outcome: SmsOutcome }[];
  next(count?: number): Promise<void>;
  handler: SmsQueueOptions['onOutcome'];
}

function outcomes(): Outcomes {
  const list: Outcomes['list'] = [];
  let waiters: { count: number; resolve: () => void }[] = [];
  return {
    list,
    next(count = list.length + 1) {
      if (list.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    handler: (pickupId, kind, outcome) => {
      list.push({ pickupId, kind, outcome });
      waiters = waiters.filter((w) => (list.length >= w.count ? (w.resolve(), false) : true));
    },
  };
}

const recipient = (overrides: Partial<SmsRecipient> = {}): SmsRecipient => ({
  mobile: MOBILE,
  code: CODE,
  language: 'de',
  location: 'Julius-Bremer-Str. 8',
  deadline: Date.parse('2026-03-11T18:30:00Z'),
  hours: DEFAULT_OPENING_HOURS,
  timeZone: 'Europe/Berlin',
  ...overrides,
});

// Monday 2 March 2026, 10:00 in Berlin: outside quiet hours.
const MORNING = '2026-03-02T09:00:00Z';

describe('SMS queue', () => {
  let redisUrl: string;
  let admin: Redis;
  const open: SmsQueue[] = [];
  let name: string;

  beforeAll(() => {
    redisUrl = inject('redisUrl');
    admin = new Redis(redisUrl);
  });

  afterEach(async () => {
    const queues = open.splice(0);
    for (const q of queues) await q.stopWorker(true);
    await queues[0]?.queue.obliterate({ force: true });
    for (const q of queues) await q.close();
    const leftovers = await admin.keys(`test:${name}:*`);
    if (leftovers.length > 0) await admin.del(...leftovers);
  });

  afterAll(async () => {
    await admin.quit();
  });

  function make(overrides: Partial<SmsQueueOptions> & { gateway: SmsGateway; onOutcome: SmsQueueOptions['onOutcome'] }): SmsQueue {
    const queue = new SmsQueue({
      connection: redisUrl,
      queueName: name,
      prefix: 'test',
      reader: { loadForSms: async () => recipient() },
      templates,
      sender: 'DokuBox',
      logger,
      clock: new ManualClock(MORNING),
      rateLimit: { max: 1000, durationMs: 1000 },
      backoff: { baseMs: 10, maxMs: 40 },
      random: () => 0.5,
      ...overrides,
    });
    open.push(queue);
    return queue;
  }

  let counter = 0;
  function freshName(): string {
    counter += 1;
    name = `sms-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
    return name;
  }

  it('sends one message when the same pickup is notified twice, before and after sending', async () => {
    freshName();
    const gateway = new FakeGateway();
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler });
    expect(await queue.notify('p-1', 'ready')).toBe('queued');
    expect(await queue.notify('p-1', 'ready')).toBe('duplicate');
    queue.start();
    await seen.next(1);
    expect(await queue.notify('p-1', 'ready')).toBe('duplicate');
    expect(await queue.notify('p-1', 'reminder')).toBe('queued');
    await seen.next(2);
    expect(gateway.accepted.map((m) => m.text.includes(CODE))).toEqual([true, true]);
    expect(gateway.accepted).toHaveLength(2);
    expect(seen.list[0]).toMatchObject({ pickupId: 'p-1', kind: 'ready', outcome: { status: 'sent', providerMessageId: 'm-1', gateway: 'fake', language: 'de' } });
    expect(gateway.accepted[0]).toMatchObject({ to: MOBILE, sender: 'DokuBox', foreignId: 'p-1.ready' });
    expect(await queue.lookupMessage('m-1')).toEqual({ pickupId: 'p-1', kind: 'ready' });
  });

  it('keeps phone numbers and codes out of Redis', async () => {
    freshName();
    const gateway = new FakeGateway();
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler });
    await queue.notify('p-2', 'ready');
    queue.start();
    await seen.next(1);
    const keys = await admin.keys(`test:${name}:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const type = await admin.type(key);
      const dump = type === 'string' ? await admin.get(key) : type === 'hash' ? JSON.stringify(await admin.hgetall(key)) : type === 'list' ? JSON.stringify(await admin.lrange(key, 0, -1)) : type === 'zset' ? JSON.stringify(await admin.zrange(key, '0', '-1')) : type === 'set' ? JSON.stringify(await admin.smembers(key)) : '';
      expect(dump ?? '', key).not.toContain('15112345678');
      expect(dump ?? '', key).not.toContain(CODE);
    }
  });

  it('does not send again when the worker died while the gateway had the request: outcome uncertain, like a timeout', async () => {
    freshName();
    const gateway = new FakeGateway().then(hang);
    const seen = outcomes();
    const first = make({ gateway, onOutcome: seen.handler, lockDurationMs: 1_000, stalledIntervalMs: 300 });
    await first.notify('p-3', 'ready');
    const started = new Promise<void>((resolve) => first.start().on('active', () => resolve()));
    await started;
    await gateway.waitForCalls(1);
    await first.stopWorker(true); // the process "dies"; its lock runs out
    const second = make({ gateway, onOutcome: seen.handler, lockDurationMs: 1_000, stalledIntervalMs: 300 });
    second.start();
    await seen.next(1);
    expect(gateway.calls).toHaveLength(1);
    expect(seen.list.map((o) => o.outcome)).toEqual([{ status: 'uncertain', reason: 'interrupted', attempts: 1 }]);
    // A later notify of the same kind (a redelivered event) sends nothing either.
    expect(await second.notify('p-3', 'ready')).toBe('duplicate');
  });

  it('sends once more when the worker died while sending and ambiguous retries are allowed', async () => {
    freshName();
    const gateway = new FakeGateway().then(hang);
    const seen = outcomes();
    const first = make({ gateway, onOutcome: seen.handler, lockDurationMs: 1_000, stalledIntervalMs: 300, retryAmbiguous: true });
    await first.notify('p-3b', 'ready');
    first.start();
    await gateway.waitForCalls(1);
    await first.stopWorker(true);
    const second = make({ gateway, onOutcome: seen.handler, lockDurationMs: 1_000, stalledIntervalMs: 300, retryAmbiguous: true });
    second.start();
    await seen.next(1);
    expect(gateway.calls).toHaveLength(2);
    expect(gateway.accepted).toHaveLength(1);
    expect(seen.list.map((o) => o.outcome.status)).toEqual(['sent']);
  });

  it('keeps no job record after sending, only the small state record that stops a second message', async () => {
    freshName();
    const gateway = new FakeGateway();
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler });
    await queue.notify('p-3c', 'ready');
    const completed = new Promise<void>((resolve) => queue.start().once('completed', () => resolve()));
    await completed;
    expect(seen.list).toHaveLength(1);
    expect(await queue.queue.getJobState('p-3c.ready')).toBe('unknown');
    expect(await queue.notify('p-3c', 'ready')).toBe('duplicate');
    expect(gateway.accepted).toHaveLength(1);
  });

  it('does not send again when the worker dies after the gateway accepted', async () => {
    freshName();
    const gateway = new FakeGateway();
    let hungOnce = false;
    const seen = outcomes();
    const accepted = new Promise<void>((resolve) => {
      const first = make({
        gateway,
        lockDurationMs: 1_000,
        stalledIntervalMs: 300,
        // The bookkeeping after acceptance never finishes in the first process.
        onOutcome: () => {
          hungOnce = true;
          resolve();
          return new Promise<void>(() => {});
        },
      });
      void first.notify('p-4', 'ready').then(() => first.start());
    });
    await accepted;
    expect(hungOnce).toBe(true);
    await open[0]?.stopWorker(true);
    const second = make({ gateway, onOutcome: seen.handler, lockDurationMs: 1_000, stalledIntervalMs: 300 });
    second.start();
    await seen.next(1);
    expect(gateway.accepted).toHaveLength(1);
    expect(seen.list[0]?.outcome).toMatchObject({ status: 'sent', providerMessageId: 'm-1' });
  });

  it('does not retry when the gateway timed out after accepting: one SMS, outcome uncertain', async () => {
    freshName();
    const gateway = new FakeGateway();
    gateway.then(async (message) => {
      await gateway.accept(message);
      throw new SmsSendError('timeout', 'test timeout');
    });
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler });
    await queue.notify('p-5', 'ready');
    const failed = new Promise<void>((resolve) => queue.start().on('failed', () => resolve()));
    await seen.next(1);
    await failed;
    expect(seen.list[0]?.outcome).toEqual({ status: 'uncertain', reason: 'timeout', attempts: 1 });
    expect(gateway.calls).toHaveLength(1);
    expect(gateway.accepted).toHaveLength(1);
    expect(await queue.queue.getJobState('p-5.ready')).toBe('failed');
  });

  it('retries a timeout when configured to, accepting a possible duplicate', async () => {
    freshName();
    const gateway = new FakeGateway().then(fail('timeout'));
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler, retryAmbiguous: true });
    await queue.notify('p-6', 'ready');
    queue.start();
    await seen.next(1);
    expect(gateway.calls).toHaveLength(2);
    expect(seen.list[0]?.outcome.status).toBe('sent');
  });

  it('retries transient failures with backoff and reports one outcome', async () => {
    freshName();
    const gateway = new FakeGateway().then(fail('unavailable', '503'), fail('unavailable', '600'));
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler });
    await queue.notify('p-7', 'ready');
    queue.start();
    await seen.next(1);
    expect(gateway.calls).toHaveLength(3);
    expect(seen.list).toHaveLength(1);
    expect(seen.list[0]?.outcome.status).toBe('sent');
    const job = await queue.queue.getJob('p-7.ready');
    expect(job?.attemptsMade).toBe(2);
  });

  it('reports a transient failure as failed once the attempts are used up', async () => {
    freshName();
    const gateway = new FakeGateway().then(fail('unavailable'), fail('unavailable'), fail('unavailable'));
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler, attempts: 3 });
    await queue.notify('p-8', 'ready');
    queue.start();
    await seen.next(1);
    expect(seen.list[0]?.outcome).toEqual({ status: 'failed', reason: 'unavailable', attempts: 3 });
    expect(gateway.accepted).toHaveLength(0);
  });

  it('fails a permanent refusal at once', async () => {
    freshName();
    const gateway = new FakeGateway().then(fail('invalid_number', '202'));
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler });
    await queue.notify('p-9', 'ready');
    const failed = new Promise<void>((resolve) => queue.start().on('failed', () => resolve()));
    await failed;
    await seen.next(1);
    expect(seen.list[0]?.outcome).toEqual({ status: 'failed', reason: 'invalid_number', providerCode: '202', attempts: 1 });
    expect(gateway.calls).toHaveLength(1);
    const job = await queue.queue.getJob('p-9.ready');
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).not.toContain('15112345678');
  });

  it('skips a pickup that ended before the SMS was due', async () => {
    freshName();
    const gateway = new FakeGateway();
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler, reader: { loadForSms: async () => undefined } });
    await queue.notify('p-10', 'reminder');
    queue.start();
    await seen.next(1);
    expect(seen.list[0]?.outcome).toEqual({ status: 'skipped', reason: 'pickup_ended' });
    expect(gateway.calls).toHaveLength(0);
  });

  it('fails at once when a ready text cannot be rendered (no code) and sends expiry notices without one', async () => {
    freshName();
    const gateway = new FakeGateway();
    const seen = outcomes();
    const { code: _code, ...withoutCode } = recipient();
    const queue = make({ gateway, onOutcome: seen.handler, reader: { loadForSms: async () => withoutCode } });
    await queue.notify('p-15', 'ready');
    await queue.notify('p-15', 'expired');
    queue.start();
    await seen.next(2);
    const byKind = Object.fromEntries(seen.list.map((o) => [o.kind, o.outcome]));
    expect(byKind.ready).toEqual({ status: 'failed', reason: 'template', attempts: 1 });
    expect(byKind.expired).toMatchObject({ status: 'sent' });
    expect(gateway.accepted.map((m) => m.foreignId)).toEqual(['p-15.expired']);
  });

  it('holds messages in quiet hours until they end', async () => {
    freshName();
    const gateway = new FakeGateway();
    const seen = outcomes();
    // Monday 21:15 in Berlin.
    const clock = new ManualClock('2026-03-02T20:15:00Z');
    const scheduler = new ManualClock('2030-01-01T00:00:00Z');
    const queue = make({ gateway, onOutcome: seen.handler, clock, schedulerClock: scheduler });
    const eventsConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const events = new QueueEvents(name, { connection: eventsConnection, prefix: 'test' });
    await events.waitUntilReady();
    const delayed = new Promise<void>((resolve) => events.on('delayed', ({ jobId }) => jobId === 'p-11.ready' && resolve()));
    await queue.notify('p-11', 'ready');
    queue.start();
    await delayed;
    await events.close();
    await eventsConnection.quit();
    const state = await queue.queue.getJobState('p-11.ready');
    expect(state).toBe('delayed');
    const job = await queue.queue.getJob('p-11.ready');
    // 08:00 Berlin on Tuesday is 10h45m later; BullMQ stores the delay relative to when it moved the job.
    const due = (job?.timestamp ?? 0) + (job?.delay ?? 0);
    expect(Math.abs(due - (scheduler.now() + (10 * 60 + 45) * 60_000))).toBeLessThan(60_000);
    expect(gateway.calls).toHaveLength(0);
    clock.set('2026-03-03T07:00:00Z');
    await job?.promote();
    await seen.next(1);
    expect(seen.list[0]?.outcome.status).toBe('sent');
  });

  it('respects the global rate limit', async () => {
    freshName();
    const gateway = new FakeGateway();
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler, rateLimit: { max: 2, durationMs: 300 }, concurrency: 5 });
    for (let i = 0; i < 6; i += 1) await queue.notify(`r-${i}`, 'ready');
    queue.start();
    await seen.next(6);
    const times = gateway.calls.map((c) => c.at).sort((a, b) => a - b);
    for (let i = 2; i < times.length; i += 1) {
      // No three sends within one window.
      // Without the limiter they would be a few ms apart; leave room for a loaded machine.
      expect((times[i] ?? 0) - (times[i - 2] ?? 0)).toBeGreaterThanOrEqual(150);
    }
  });

  it('pauses on gateway throttling without using up attempts', async () => {
    freshName();
    const gateway = new FakeGateway().then(async () => {
      throw new SmsSendError('throttled', 'slow down', { retryAfterMs: 50 });
    });
    const seen = outcomes();
    const queue = make({ gateway, onOutcome: seen.handler, attempts: 1 });
    await queue.notify('p-12', 'ready');
    queue.start();
    await seen.next(1);
    expect(seen.list[0]?.outcome.status).toBe('sent');
    expect(gateway.calls).toHaveLength(2);
  });

  it('queues a message for later and withdraws it while it waits', async () => {
    freshName();
    const gateway = new FakeGateway();
    const seen = outcomes();
    const clock = new ManualClock(MORNING);
    const queue = make({ gateway, onOutcome: seen.handler, clock });
    const at = Date.parse('2026-03-09T18:30:00Z');
    expect(await queue.notify('p-13', 'reminder', { notBefore: at })).toBe('queued');
    const job = await queue.queue.getJob('p-13.reminder');
    expect(job?.delay).toBe(at - clock.now());
    expect(await queue.notify('p-13', 'reminder', { notBefore: at })).toBe('duplicate');
    expect(await queue.cancel('p-13', 'reminder')).toBe('removed');
    expect(await queue.notify('p-13', 'reminder', { notBefore: at + 86_400_000 })).toBe('queued');
    expect(await queue.cancel('p-99', 'reminder')).toBe('not_found');
  });
});
