import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { SevenGateway } from '../../adapters/sms/seven/gateway.js';
import { SmppGateway } from '../../adapters/sms/smpp/gateway.js';
import { RedisNonceStore } from '../../adapters/sms/seven/webhook.js';
import { DEFAULT_OPENING_HOURS } from '../../src/core/calendar.js';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { SmsQueue, type SmsOutcome } from '../../src/sms/queue.js';
import { loadSmsTemplates } from '../../src/sms/template-loader.js';
import { startSevenSimulator, startSmppSimulator } from '../../simulator/sms-gateway/index.js';

const logger = pino({ level: 'silent' });
const MOBILE = '+4917612345678';

describe('SMS end to end: queue -> seven.io adapter -> simulator -> signed webhook -> pickup', () => {
  it('delivers the ready SMS in Arabic and attributes the delivery report to the pickup', async () => {
    const redisUrl = inject('redisUrl');
    const redis = new Redis(redisUrl);
    const secret = 'end-to-end-secret-123';
    const sim = await startSevenSimulator({ apiKey: 'k', signingSecret: secret });
    let webhookUrl = '';
    const gateway = new SevenGateway({ apiKey: 'k', baseUrl: sim.url, clock: systemClock, logger, webhook: { signingSecret: secret, nonces: new RedisNonceStore(redis, `e2e:${process.pid}:nonce:`) } });
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void gateway.handleWebhook({ method: 'POST', url: webhookUrl, headers: req.headers, body: Buffer.concat(chunks) }).then((a) => res.writeHead(a.status).end(a.body));
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/sms/seven`;
    sim.setWebhookUrl(webhookUrl);

    let reported: (o: SmsOutcome) => void = () => undefined;
    const outcome = new Promise<SmsOutcome>((resolve) => {
      reported = resolve;
    });
    const queue = new SmsQueue({
      connection: redisUrl,
      queueName: `e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      prefix: 'test',
      gateway,
      reader: { loadForSms: async () => ({ mobile: MOBILE, code: '204817', language: 'ar', location: 'Julius-Bremer-Str. 8', deadline: Date.parse('2026-03-11T18:30:00Z'), hours: DEFAULT_OPENING_HOURS, timeZone: 'Europe/Berlin' }) },
      onOutcome: (_pickupId, _kind, o) => reported(o),
      templates: loadSmsTemplates(),
      sender: 'DokuBox',
      logger,
      clock: new ManualClock('2026-03-02T09:00:00Z'),
    });
    try {
      const attributed = new Promise<{ pickupId: string; kind: string; status: string }>((resolve) => {
        queue.listenForDeliveryReports(gateway, (pickupId, kind, report) => resolve({ pickupId, kind, status: report.status }), { waitMs: 20 });
      });
      await queue.notify('pickup-ar-1', 'ready');
      queue.start();
      const [sms] = await sim.inbox.waitFor(MOBILE);
      expect(sms?.encoding).toBe('ucs2');
      expect(sms?.text).toContain('\u2066204817\u2069');
      expect(sms?.foreignId).toBe('pickup-ar-1.ready');
      expect(await attributed).toEqual({ pickupId: 'pickup-ar-1', kind: 'ready', status: 'delivered' });
      // The delivery report may be attributed before the worker reported its own outcome: wait for both.
      expect(await outcome).toMatchObject({ status: 'sent', gateway: 'seven', encoding: 'ucs2', language: 'ar' });
    } finally {
      await queue.stopWorker();
      await queue.queue.obliterate({ force: true });
      await queue.close();
      await sim.close();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      await redis.quit();
    }
  });

  it('sends a long Ukrainian reminder over SMPP through a throttling SMSC exactly once', async () => {
    const redisUrl = inject('redisUrl');
    const smsc = await startSmppSimulator();
    const gateway = new SmppGateway({ host: '127.0.0.1', port: smsc.port, systemId: 'dokubox', password: 'dev', logger, throttleRetries: 0, throttleWaitMs: 20 });
    await gateway.start();
    const outcomes: SmsOutcome[] = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const queue = new SmsQueue({
      connection: redisUrl,
      queueName: `e2e-smpp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      prefix: 'test',
      gateway,
      reader: { loadForSms: async () => ({ mobile: MOBILE, code: '771204', language: 'uk', location: 'Bürgerbüro Breiter Weg 222, 39104 Foyer', deadline: Date.parse('2026-03-11T18:30:00Z'), hours: DEFAULT_OPENING_HOURS, timeZone: 'Europe/Berlin' }) },
      onOutcome: (_p, _k, o) => {
        outcomes.push(o);
        done();
      },
      templates: loadSmsTemplates(),
      sender: 'DokuBox',
      logger,
      clock: new ManualClock('2026-03-09T09:00:00Z'),
      attempts: 1,
    });
    try {
      // The first submit is throttled: the queue pauses and tries again without using up its one attempt.
      smsc.throttle(1);
      await queue.notify('pickup-uk-1', 'reminder');
      await queue.notify('pickup-uk-1', 'reminder');
      queue.start();
      await finished;
      const [sms] = await smsc.inbox.waitFor(MOBILE);
      expect(outcomes).toEqual([expect.objectContaining({ status: 'sent', gateway: 'smpp', encoding: 'ucs2', language: 'uk' })]);
      expect(sms?.parts).toBeGreaterThan(1);
      expect(sms?.text).toContain('771204');
      expect(smsc.inbox.list(MOBILE)).toHaveLength(1);
    } finally {
      await queue.stopWorker();
      await queue.queue.obliterate({ force: true });
      await queue.close();
      await gateway.close();
      await smsc.close();
    }
  });
});
