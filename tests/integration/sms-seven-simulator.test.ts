import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DevGateway } from '../../adapters/sms/dev/index.js';
import { SevenGateway } from '../../adapters/sms/seven/gateway.js';
import { MemoryNonceStore } from '../../adapters/sms/seven/webhook.js';
import { SmsSendError, type DeliveryReport } from '../../adapters/sms/types.js';
import { systemClock } from '../../src/core/clock.js';
import { startSevenSimulator, type SevenSimulator } from '../../simulator/sms-gateway/index.js';
import { rejectionOf } from '../support/errors.js';

const logger = pino({ level: 'silent' });
const TO = '+4915112345678';
const SECRET = 'sim-secret';

const failure = (promise: Promise<unknown>) => rejectionOf(promise, SmsSendError);

describe('seven.io adapter against the simulator', () => {
  let sim: SevenSimulator;
  let receiver: Server;
  let webhookUrl: string;
  let gateway: SevenGateway;
  const reports: DeliveryReport[] = [];
  let refuseWebhooks = 0;
  let reportWaiter: (() => void) | undefined;

  beforeAll(async () => {
    sim = await startSevenSimulator({ apiKey: 'test-key', signingSecret: SECRET });
    // The product's webhook endpoint, reduced to the gateway's handler.
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (refuseWebhooks > 0) {
          refuseWebhooks -= 1;
          res.writeHead(503).end('busy');
          return;
        }
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
        void gateway.handleWebhook({ method: req.method ?? 'POST', url: webhookUrl, headers, body: Buffer.concat(chunks).toString('utf8') }).then((answer) => {
          res.writeHead(answer.status).end(answer.body);
        });
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/sms/seven`;
    sim.setWebhookUrl(webhookUrl);
    gateway = new SevenGateway({ apiKey: 'test-key', baseUrl: sim.url, timeoutMs: 2_000, clock: systemClock, logger, webhook: { signingSecret: SECRET, nonces: new MemoryNonceStore(systemClock) } });
    gateway.onDeliveryReport((report) => {
      reports.push(report);
      reportWaiter?.();
    });
  });

  afterAll(async () => {
    await sim.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  afterEach(() => {
    sim.inbox.clear();
  });

  it('delivers to the phone inbox and reports delivery through a signed webhook', async () => {
    const delivered = new Promise<void>((resolve) => {
      reportWaiter = resolve;
    });
    const result = await gateway.send({ to: TO, text: 'Ihr Dokument liegt bereit. Code 123456', sender: 'DokuBox', foreignId: 'p-1.ready' });
    expect(result).toMatchObject({ parts: 1, encoding: 'gsm' });
    const [sms] = await sim.inbox.waitFor(TO);
    expect(sms).toMatchObject({ id: result.providerMessageId, from: 'DokuBox', text: 'Ihr Dokument liegt bereit. Code 123456', foreignId: 'p-1.ready', via: 'http' });
    const listed = (await (await fetch(`${sim.url}/inbox/${encodeURIComponent(TO)}`)).json()) as unknown[];
    expect(listed).toHaveLength(1);
    const all = (await (await fetch(`${sim.url}/inbox`)).json()) as Record<string, unknown[]>;
    expect(Object.keys(all)).toEqual([TO]);
    await delivered;
    expect(reports.at(-1)).toMatchObject({ providerMessageId: result.providerMessageId, status: 'delivered', gateway: 'seven' });
  });

  it('retries a webhook the product could not take, with a fresh signature', async () => {
    refuseWebhooks = 1;
    const delivered = new Promise<void>((resolve) => {
      reportWaiter = resolve;
    });
    const result = await gateway.send({ to: TO, text: 'retry', sender: 'DokuBox', foreignId: 'p-1b.ready' });
    await delivered;
    // The second attempt got through (its 200 is recorded by the simulator only after we answered).
    expect(sim.webhooks.find((w) => w.msgId === result.providerMessageId)).toEqual({ msgId: result.providerMessageId, status: 503 });
    expect(reports.filter((r) => r.providerMessageId === result.providerMessageId).map((r) => r.status)).toEqual(['delivered']);
  });

  it('counts UCS-2 parts like the gateway', async () => {
    const result = await gateway.send({ to: TO, text: 'وثيقتك جاهزة '.repeat(10), sender: 'DokuBox', foreignId: 'p-2.ready' });
    expect(result).toMatchObject({ encoding: 'ucs2', parts: 2 });
  });

  it('surfaces a per-message rejection sent with HTTP 200', async () => {
    sim.script({ kind: 'reject', code: '202' });
    expect(await failure(gateway.send({ to: TO, text: 'x', sender: 'DokuBox', foreignId: 'p-3.ready' }))).toMatchObject({ reason: 'invalid_number', retryable: false });
    expect(sim.inbox.list(TO)).toHaveLength(0);
  });

  it('recovers from a 5xx and maps account codes', async () => {
    sim.script({ kind: 'http', status: 502 }, { kind: 'code', code: '500' });
    expect(await failure(gateway.send({ to: TO, text: 'x', sender: 'DokuBox', foreignId: 'p-4.ready' }))).toMatchObject({ reason: 'unavailable', retryable: true });
    expect(await failure(gateway.send({ to: TO, text: 'x', sender: 'DokuBox', foreignId: 'p-4.ready' }))).toMatchObject({ reason: 'no_credit', retryable: false });
    await expect(gateway.send({ to: TO, text: 'x', sender: 'DokuBox', foreignId: 'p-4.ready' })).resolves.toMatchObject({ parts: 1 });
  });

  it('times out on a slow answer although the simulator accepted the message (the ambiguous case)', async () => {
    sim.script({ kind: 'slow', ms: 500 });
    const slowGateway = new SevenGateway({ apiKey: 'test-key', baseUrl: sim.url, timeoutMs: 100, clock: systemClock, logger });
    expect(await failure(slowGateway.send({ to: TO, text: 'slow', sender: 'DokuBox', foreignId: 'p-5.ready' }))).toMatchObject({ reason: 'timeout', ambiguous: true });
    const [sms] = await sim.inbox.waitFor(TO);
    expect(sms?.text).toBe('slow');
  });

  it('refuses a wrong API key as an auth failure', async () => {
    const wrong = new SevenGateway({ apiKey: 'nope', baseUrl: sim.url, clock: systemClock, logger });
    expect(await failure(wrong.send({ to: TO, text: 'x', sender: 'DokuBox', foreignId: 'p-6.ready' }))).toMatchObject({ reason: 'auth', providerCode: '900' });
  });

  it('accepts form-encoded requests like the real API', async () => {
    const response = await fetch(`${sim.url}/api/sms`, { method: 'POST', headers: { 'X-Api-Key': 'test-key', 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ to: TO, text: 'form', from: 'DokuBox' }).toString() });
    const body = (await response.json()) as { success: string; messages: { success: boolean }[] };
    expect(body.success).toBe('100');
    expect(body.messages[0]?.success).toBe(true);
    expect(sim.inbox.list(TO).map((m) => m.text)).toEqual(['form']);
  });

  it('has a development gateway that reaches the inbox with the dev key', async () => {
    const devSim = await startSevenSimulator();
    try {
      const dev = new DevGateway({ simulatorUrl: devSim.url, clock: systemClock, logger });
      const result = await dev.send({ to: TO, text: 'dev', sender: 'DokuBox', foreignId: 'p-7.ready' });
      expect(dev.name).toBe('dev');
      expect(devSim.inbox.list(TO)).toMatchObject([{ id: result.providerMessageId, text: 'dev' }]);
    } finally {
      await devSim.close();
    }
  });
});
