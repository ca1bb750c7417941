import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { SmartLocker } from './index.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook, verifyWebhookSignature } from './protocol.js';

const secret = 'a-webhook-secret-of-enough-length';
const body = JSON.stringify({ id: 'e1', type: 'compartment.opened', controllerId: 'c1', compartmentId: '001', occurredAt: '2026-01-05T08:00:00Z' });
const nowMs = Date.parse('2026-01-05T08:00:00Z');
const ts = nowMs / 1000;

describe('webhook signature', () => {
  it('accepts a fresh, correctly signed body', () => {
    expect(verifyWebhookSignature(secret, body, String(ts), signWebhook(secret, ts, body), nowMs, 300_000)).toEqual({ ok: true });
  });

  it('refuses stale and future timestamps, wrong signatures, missing headers', () => {
    const sig = signWebhook(secret, ts, body);
    expect(verifyWebhookSignature(secret, body, String(ts), sig, nowMs + 301_000, 300_000)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhookSignature(secret, body, String(ts), sig, nowMs - 301_000, 300_000)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhookSignature(secret, `${body} `, String(ts), sig, nowMs, 300_000)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhookSignature('another-secret-xxxxxxxx', body, String(ts), sig, nowMs, 300_000)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhookSignature(secret, body, undefined, sig, nowMs, 300_000)).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyWebhookSignature(secret, body, '12a', sig, nowMs, 300_000)).toEqual({ ok: false, reason: 'bad_timestamp' });
  });

  it('accepts any of several signatures (secret rotation)', () => {
    const header = `${signWebhook('old-secret-xxxxxxxxxxxx', ts, body)}, ${signWebhook(secret, ts, body)}`;
    expect(verifyWebhookSignature(secret, body, String(ts), header, nowMs, 300_000)).toEqual({ ok: true });
  });
});

describe('SmartLocker.handleSmartWebhook', () => {
  const make = () => {
    const clock = new ManualClock(nowMs);
    const locker = new SmartLocker({
      config: { controllerId: 'c1', baseUrl: 'http://127.0.0.1:9', apiKey: 'k', webhookSecret: secret, pollIntervalMs: 0 },
      compartments: [{ id: '001' }],
      logger: pino({ level: 'silent' }),
      clock,
    });
    return { locker, clock };
  };

  it('answers 401 for a stale webhook and 204 for a fresh one, works with plain header records', () => {
    const { locker, clock } = make();
    const headers = { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signWebhook(secret, ts, body) };
    clock.advance(10 * 60_000);
    expect(locker.handleSmartWebhook(body, headers).status).toBe(401);
    clock.set(nowMs);
    expect(locker.handleSmartWebhook(body, new Headers(headers)).status).toBe(204);
    expect(locker.handleSmartWebhook(body, { 'X-Dokubox-Timestamp': String(ts), 'X-Dokubox-Signature': signWebhook(secret, ts, body) }).status).toBe(204);
  });

  it('answers 400 for a signed body that is not an event or is for another controller', () => {
    const { locker } = make();
    for (const raw of ['not json', JSON.stringify({ id: 'x', type: 'compartment.opened', controllerId: 'other', occurredAt: 'now' })]) {
      expect(locker.handleSmartWebhook(raw, { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signWebhook(secret, ts, raw) }).status).toBe(400);
    }
  });
});

describe('SmartLocker state reads and webhooks', () => {
  it('a webhook that arrives while a state read is under way is not overwritten by it', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const fakeFetch = (async () => {
      calls++;
      if (calls > 1) await gate;
      const body = { controllerId: 'c1', compartments: [{ id: '001', door: 'closed', occupancy: 'empty', enabled: true }] };
      return new Response(JSON.stringify(body), { status: 200 });
    }) as typeof fetch;
    const locker = new SmartLocker({
      config: { controllerId: 'c1', baseUrl: 'http://controller.invalid', apiKey: 'k', webhookSecret: secret, pollIntervalMs: 0 },
      compartments: [{ id: '001' }],
      logger: pino({ level: 'silent' }),
      clock: new ManualClock(nowMs),
      fetch: fakeFetch,
    });
    const types: string[] = [];
    locker.on('event', (e) => types.push(e.type));
    await locker.start();
    const reading = locker.refresh();
    expect(locker.refresh()).toBe(reading);
    expect(locker.handleSmartWebhook(body, { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signWebhook(secret, ts, body) }).status).toBe(204);
    release();
    await reading;
    expect(types).toEqual(['board.online', 'door.opened']);
    expect(locker.snapshot()[0]?.door).toBe('open');
  });
});
