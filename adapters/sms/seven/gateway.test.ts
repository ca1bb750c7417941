import '../../../tests/support/sms-promise-with-resolvers.js';
import nock from 'nock';
import { pino } from 'pino';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { SmsSendError } from '../types.js';
import { SevenGateway } from './gateway.js';
import { rejectionOf } from '../../../tests/support/errors.js';

const BASE = 'http://seven.test';
const logger = pino({ level: 'silent' });
const message = { to: '+4915112345678', text: 'Code 123456', sender: 'DokuBox', foreignId: 'p-1.ready' };

function gateway(timeoutMs = 2_000): SevenGateway {
  return new SevenGateway({ apiKey: 'key-1', baseUrl: BASE, timeoutMs, clock: new ManualClock(), logger });
}

function ok(id = '77001', extra: Record<string, unknown> = {}) {
  return { success: '100', total_price: 0.075, balance: 10, debug: 'false', sms_type: 'direct', messages: [{ id, recipient: '4915112345678', encoding: 'gsm', parts: 1, price: 0.075, success: true, error: null, error_text: null, ...extra }] };
}

const failure = (promise: Promise<unknown>) => rejectionOf(promise, SmsSendError);

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());
afterEach(() => {
  expect(nock.isDone()).toBe(true);
  nock.cleanAll();
});

describe('seven.io gateway: sending', () => {
  it('sends JSON with the API key and foreign id and returns the message id', async () => {
    let seen: Record<string, unknown> = {};
    nock(BASE, { reqheaders: { 'x-api-key': 'key-1' } })
      .post('/api/sms', (body: Record<string, unknown>) => {
        seen = body;
        return true;
      })
      .reply(200, ok('77001', { encoding: 'ucs2', parts: 2 }));
    await expect(gateway().send(message)).resolves.toEqual({ providerMessageId: '77001', parts: 2, encoding: 'ucs2' });
    expect(seen).toMatchObject({ to: '+4915112345678', text: 'Code 123456', from: 'DokuBox', foreign_id: 'p-1.ready' });
  });

  it('reads the per-message result: HTTP 200 with a rejected message is a failure', async () => {
    nock(BASE).post('/api/sms').reply(200, { ...ok(), success: '100', messages: [{ id: null, recipient: '49151', success: false, error: '202', error_text: 'Invalid recipient' }] });
    const error = await failure(gateway().send(message));
    expect(error).toMatchObject({ reason: 'invalid_number', retryable: false, providerCode: '202' });
  });

  it.each([
    ['201', 'invalid_number', false],
    ['202', 'invalid_number', false],
    ['300', 'auth', false],
    ['900', 'auth', false],
    ['301', 'bad_request', false],
    ['305', 'bad_request', false],
    ['306', 'bad_sender', false],
    ['401', 'too_long', false],
    ['402', 'rejected', false],
    ['500', 'no_credit', false],
    ['600', 'unavailable', true],
    ['700', 'unavailable', true],
    ['902', 'auth', false],
    ['903', 'auth', false],
    ['999', 'rejected', false],
  ])('maps the bare code %s to %s (retryable %s)', async (code, reason, retryable) => {
    nock(BASE).post('/api/sms').reply(200, code, { 'Content-Type': 'text/plain' });
    const error = await failure(gateway().send(message));
    expect(error).toMatchObject({ reason, retryable, providerCode: code });
    expect(error.message).not.toContain('+4915112345678');
  });

  it('treats a 5xx as retryable and succeeds on the next try', async () => {
    nock(BASE).post('/api/sms').reply(503, 'busy').post('/api/sms').reply(200, ok('77002'));
    const gw = gateway();
    expect(await failure(gw.send(message))).toMatchObject({ reason: 'unavailable', retryable: true, ambiguous: false });
    await expect(gw.send(message)).resolves.toMatchObject({ providerMessageId: '77002' });
  });

  it('reports HTTP 429 as throttled with the advised wait', async () => {
    nock(BASE).post('/api/sms').reply(429, '', { 'Retry-After': '3' });
    expect(await failure(gateway().send(message))).toMatchObject({ reason: 'throttled', retryable: true, retryAfterMs: 3000 });
  });

  it('gives up after the timeout and says the outcome is ambiguous', async () => {
    // A server that never answers (nock's delayed replies upset undici after an abort;
    // the simulator's slow mode covers the real socket in tests/integration).
    const silent: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)));
    const gw = new SevenGateway({ apiKey: 'key-1', baseUrl: BASE, timeoutMs: 20, clock: new ManualClock(), logger, fetch: silent });
    const error = await failure(gw.send(message));
    expect(error).toMatchObject({ reason: 'timeout', retryable: true, ambiguous: true });
  });

  it('reports an unreachable gateway as unavailable, not ambiguous', async () => {
    const refused: typeof fetch = () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }));
    const gw = new SevenGateway({ apiKey: 'key-1', baseUrl: BASE, clock: new ManualClock(), logger, fetch: refused });
    expect(await failure(gw.send(message))).toMatchObject({ reason: 'unavailable', retryable: true, ambiguous: false });
  });

  it('refuses sender ids longer than 11 characters and bad foreign ids before calling out', async () => {
    expect(await failure(gateway().send({ ...message, sender: 'Auslaenderbehoerde' }))).toMatchObject({ reason: 'bad_sender' });
    expect(await failure(gateway().send({ ...message, foreignId: 'p:1' }))).toMatchObject({ reason: 'bad_request' });
  });
});
