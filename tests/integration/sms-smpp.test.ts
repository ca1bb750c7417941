import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SmppGateway, type SmppGatewayOptions } from '../../adapters/sms/smpp/gateway.js';
import { SmsSendError, type DeliveryReport } from '../../adapters/sms/types.js';
import { startSmppSimulator, type SmppSimulator } from '../../simulator/sms-gateway/index.js';

const logger = pino({ level: 'silent' });
const TO = '+4915112345678';

describe('SMPP gateway against the simulated SMSC', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function setup(options: Partial<SmppGatewayOptions> = {}, simOptions: Parameters<typeof startSmppSimulator>[0] = {}): Promise<{ sim: SmppSimulator; gateway: SmppGateway; reports: DeliveryReport[]; nextReport: (count: number) => Promise<void> }> {
    const sim = await startSmppSimulator(simOptions);
    cleanup.push(() => sim.close());
    const gateway = new SmppGateway({ host: '127.0.0.1', port: sim.port, systemId: 'dokubox', password: 'dev', logger, reconnect: { baseMs: 20, maxMs: 100 }, responseTimeoutMs: 1_000, throttleWaitMs: 10, ...options });
    cleanup.push(() => gateway.close());
    const reports: DeliveryReport[] = [];
    let waiters: { count: number; resolve: () => void }[] = [];
    gateway.onDeliveryReport((report) => {
      reports.push(report);
      waiters = waiters.filter((w) => (reports.length >= w.count ? (w.resolve(), false) : true));
    });
    const nextReport = (count: number) => (reports.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })));
    return { sim, gateway, reports, nextReport };
  }

  it('binds, sends a short text and turns the receipt into a delivery report', async () => {
    const { sim, gateway, reports, nextReport } = await setup();
    await gateway.start();
    const result = await gateway.send({ to: TO, text: 'Code 123456, abholbar bis Mi 02.12.', sender: 'DokuBox', foreignId: 'p-1.ready' });
    expect(result).toMatchObject({ parts: 1, encoding: 'gsm' });
    const [sms] = await sim.inbox.waitFor(TO);
    expect(sms).toMatchObject({ text: 'Code 123456, abholbar bis Mi 02.12.', from: 'DokuBox', via: 'smpp', parts: 1 });
    await nextReport(1);
    expect(reports[0]).toMatchObject({ gateway: 'smpp', providerMessageId: result.providerMessageId, status: 'delivered', providerStatus: 'DELIVRD', errorCode: '000' });
  });

  it('sends long GSM and UCS-2 texts as concatenated parts that arrive whole', async () => {
    const { sim, gateway, reports, nextReport } = await setup();
    await gateway.start();
    const german = `Ihr Dokument liegt bereit, Gebühr 0 €. ${'Bitte bringen Sie Ihr altes Dokument mit. '.repeat(6)}`;
    const long = await gateway.send({ to: TO, text: german, sender: 'DokuBox', foreignId: 'p-2.ready' });
    expect(long).toMatchObject({ encoding: 'gsm', parts: 2 });
    const arabic = 'وثيقتك جاهزة في DokuBox. الرمز \u2066123456\u2069. '.repeat(3);
    const rtl = await gateway.send({ to: TO, text: arabic, sender: 'DokuBox', foreignId: 'p-3.ready' });
    expect(rtl).toMatchObject({ encoding: 'ucs2', parts: Math.ceil(arabic.length / 67) });
    expect(rtl.parts).toBeGreaterThan(1);
    const inbox = await sim.inbox.waitFor(TO, 2);
    expect(inbox.map((m) => m.text)).toEqual([german, arabic]);
    expect(inbox.map((m) => m.encoding)).toEqual(['gsm', 'ucs2']);
    // One receipt per part, all attributed to the message's first id.
    await nextReport(long.parts + rtl.parts);
    expect(new Set(reports.map((r) => r.providerMessageId))).toEqual(new Set([long.providerMessageId, rtl.providerMessageId]));
  });

  it('waits out ESME_RTHROTTLED and still sends once', async () => {
    const { sim, gateway } = await setup();
    await gateway.start();
    sim.throttle(2);
    await expect(gateway.send({ to: TO, text: 'throttled', sender: 'DokuBox', foreignId: 'p-4.ready' })).resolves.toMatchObject({ parts: 1 });
    expect(sim.submits).toBe(3);
    expect(sim.inbox.list(TO)).toHaveLength(1);
  });

  it('reports persistent throttling as retryable', async () => {
    const { sim, gateway } = await setup({ throttleRetries: 1 });
    await gateway.start();
    sim.throttle(5);
    const error = await gateway.send({ to: TO, text: 'x', sender: 'DokuBox', foreignId: 'p-5.ready' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmsSendError);
    expect(error).toMatchObject({ reason: 'throttled', retryable: true, providerCode: '0x00000058' });
  });

  it('maps a refused destination to invalid_number', async () => {
    const { sim, gateway } = await setup();
    await gateway.start();
    sim.refuseNext(0x0b);
    await expect(gateway.send({ to: TO, text: 'x', sender: 'DokuBox', foreignId: 'p-6.ready' })).rejects.toMatchObject({ reason: 'invalid_number', retryable: false });
  });

  it('reports an unanswered submit as an ambiguous timeout', async () => {
    const { sim, gateway } = await setup({ responseTimeoutMs: 100 });
    await gateway.start();
    sim.silence(true);
    await expect(gateway.send({ to: TO, text: 'x', sender: 'DokuBox', foreignId: 'p-7.ready' })).rejects.toMatchObject({ reason: 'timeout', ambiguous: true });
  });

  it('reconnects after the connection drops and keeps the link alive with enquire_link', async () => {
    const { sim, gateway } = await setup({ enquireLinkMs: 30 });
    await gateway.start();
    const rebound = gateway.nextBind();
    sim.dropConnections();
    await rebound;
    expect(sim.binds).toBe(2);
    await expect(gateway.send({ to: TO, text: 'after reconnect', sender: 'DokuBox', foreignId: 'p-8.ready' })).resolves.toMatchObject({ parts: 1 });
    const seen = sim.enquireLinks;
    await sim.nextEnquireLink();
    expect(sim.enquireLinks).toBeGreaterThan(seen);
  });

  it('says auth when the SMSC refuses the credentials', async () => {
    const { gateway } = await setup({ password: 'wrong', reconnect: { baseMs: 1_000, maxMs: 1_000 } });
    const refused = new Promise<void>((resolve) => gateway.onStateChange((state) => state === 'bind_refused' && resolve()));
    void gateway.start();
    await refused;
    const error = await gateway.send({ to: TO, text: 'x', sender: 'DokuBox', foreignId: 'p-9.ready' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'auth', retryable: false });
  });
});
