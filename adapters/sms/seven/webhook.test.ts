import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import type { DeliveryReport } from '../types.js';
import { SevenGateway } from './gateway.js';
import { MemoryNonceStore, RedisNonceStore, SevenWebhookVerifier, signSevenWebhook, type NonceStore } from './webhook.js';

const SECRET = 'webhook-secret';
const URL = 'https://dokubox.example/webhooks/sms/seven';
const START = Date.parse('2026-03-02T10:00:00Z');

function signed(clock: ManualClock, body: string, overrides: { nonce?: string; timestamp?: number; secret?: string; url?: string } = {}) {
  const timestamp = String(overrides.timestamp ?? Math.floor(clock.now() / 1000));
  const nonce = overrides.nonce ?? `n-${Math.random().toString(36).slice(2)}`;
  const signature = signSevenWebhook(overrides.secret ?? SECRET, { timestamp, nonce, method: 'POST', url: overrides.url ?? URL, body });
  return { method: 'POST', url: URL, body, headers: { 'X-Signature': signature, 'X-Timestamp': timestamp, 'X-Nonce': nonce, 'content-type': 'application/json' } };
}

const dlr = (status: string, id = '77001') => JSON.stringify({ webhook_event: 'dlr', webhook_timestamp: '2026-03-02 11:00:00', data: { msg_id: id, status, timestamp: '2026-03-02 11:00:00.000' } });

describe('seven.io webhook verification', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await redis.quit();
  });

  function verifier(clock: ManualClock, nonces: NonceStore = new MemoryNonceStore(clock)) {
    return new SevenWebhookVerifier({ signingSecret: SECRET, nonces, clock, maxAgeSeconds: 300 });
  }

  it('accepts a correctly signed delivery report and maps its status', async () => {
    const clock = new ManualClock(START);
    const result = await verifier(clock).verify(signed(clock, dlr('DELIVERED')));
    expect(result).toEqual({ ok: true, reports: [expect.objectContaining({ gateway: 'seven', providerMessageId: '77001', status: 'delivered', providerStatus: 'DELIVERED' })] });
  });

  it.each([
    ['NOTDELIVERED', 'failed'],
    ['BUFFERED', 'buffered'],
    ['TRANSMITTED', 'accepted'],
    ['ACCEPTED', 'accepted'],
    ['EXPIRED', 'expired'],
    ['REJECTED', 'rejected'],
    ['FAILED', 'failed'],
    ['SOMETHING', 'unknown'],
  ])('maps %s to %s', async (word, status) => {
    const clock = new ManualClock(START);
    const result = await verifier(clock).verify(signed(clock, dlr(word)));
    expect(result.ok && result.reports[0]?.status).toBe(status);
  });

  it('refuses a wrong signature, a wrong secret, a changed body and a different URL', async () => {
    const clock = new ManualClock(START);
    const v = verifier(clock);
    const good = signed(clock, dlr('DELIVERED'));
    expect(await v.verify({ ...good, headers: { ...good.headers, 'X-Signature': 'ab'.repeat(32) } })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await v.verify(signed(clock, dlr('DELIVERED'), { secret: 'other' }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await v.verify({ ...good, body: dlr('FAILED') })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await v.verify(signed(clock, dlr('DELIVERED'), { url: 'https://evil.example/x' }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await v.verify({ ...good, headers: { 'X-Signature': good.headers['X-Signature'] } })).toEqual({ ok: false, reason: 'missing_headers' });
  });

  it('refuses stale and future timestamps', async () => {
    const clock = new ManualClock(START);
    const v = verifier(clock);
    const now = Math.floor(START / 1000);
    expect(await v.verify(signed(clock, dlr('DELIVERED'), { timestamp: now - 301 }))).toEqual({ ok: false, reason: 'stale' });
    expect(await v.verify(signed(clock, dlr('DELIVERED'), { timestamp: now + 301 }))).toEqual({ ok: false, reason: 'stale' });
    expect((await v.verify(signed(clock, dlr('DELIVERED'), { timestamp: now - 299 }))).ok).toBe(true);
  });

  it('refuses a replayed nonce through Redis, across verifier instances', async () => {
    const clock = new ManualClock(START);
    const prefix = `test:nonce:${Math.random().toString(36).slice(2)}:`;
    const request = signed(clock, dlr('DELIVERED'), { nonce: 'nonce-1' });
    expect((await verifier(clock, new RedisNonceStore(redis, prefix)).verify(request)).ok).toBe(true);
    expect(await verifier(clock, new RedisNonceStore(redis, prefix)).verify(request)).toEqual({ ok: false, reason: 'replayed' });
    const ttl = await redis.ttl(`${prefix}nonce-1`);
    expect(ttl).toBeGreaterThan(300);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('does not burn a nonce for a forged request', async () => {
    const clock = new ManualClock(START);
    const v = verifier(clock);
    const good = signed(clock, dlr('DELIVERED'), { nonce: 'shared' });
    expect((await v.verify({ ...good, headers: { ...good.headers, 'X-Signature': '00'.repeat(32) } })).ok).toBe(false);
    expect((await v.verify(good)).ok).toBe(true);
  });

  it('answers 401 for refused webhooks and feeds accepted ones to the gateway listeners', async () => {
    const clock = new ManualClock(START);
    const gateway = new SevenGateway({ apiKey: 'k', clock, logger: pino({ level: 'silent' }), webhook: { signingSecret: SECRET, nonces: new MemoryNonceStore(clock), publicUrl: URL } });
    const seen: DeliveryReport[] = [];
    gateway.onDeliveryReport((report) => {
      seen.push(report);
    });
    const request = signed(clock, dlr('DELIVERED'));
    // Behind a proxy the URL the server sees differs; the configured public URL is what seven.io signed.
    expect(await gateway.handleWebhook({ ...request, url: 'http://10.0.0.5:8080/webhooks/sms/seven' })).toEqual({ status: 200, body: 'ok' });
    expect(await gateway.handleWebhook(request)).toEqual({ status: 401, body: 'replayed' });
    expect(seen.map((r) => r.status)).toEqual(['delivered']);
  });
});
