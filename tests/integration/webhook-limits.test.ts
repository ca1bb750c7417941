/**
 * The signed webhooks (seven.io delivery reports, smart locker events) decide
 * what they can from the headers before reading a body, and never read more
 * than their limit (16 KiB): the assertions count the bytes pulled from the
 * request's body stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook as signSmartEvent } from '../../adapters/locker/smart/protocol.js';
import { signSevenWebhook } from '../../adapters/sms/seven/webhook.js';
import { createWorld, type TestWorld } from '../support/harness.js';
import { answerToPartialUpload, lazyBody, streamingRequest } from '../support/lazy-body.js';

const SEVEN_SECRET = 'seven-webhook-secret-0001';
const SMART_SECRET = 'smart-webhook-secret-0001';
const LIMIT = 16 * 1024;

let world: TestWorld;
let base: string;
beforeAll(async () => {
  world = await createWorld({ env: { PORT: '0', BOXES_DIR: 'tests/fixtures/boxes-smart', LOCKERS_ENABLED: 'true', SEVEN_WEBHOOK_SECRET: SEVEN_SECRET } });
  base = (await world.dokubox.listen()).url;
});
afterAll(async () => world.close());

const post = async (path: string, headers: Record<string, string>, body: ReadableStream<Uint8Array> | string): Promise<Response> =>
  world.dokubox.app.request(streamingRequest(`http://localhost${path}`, headers, body));

const now = (): number => Math.floor(world.clock.now() / 1000);

function sevenHeaders(body: string, url = 'http://localhost/sms/v1/seven/webhook', timestamp = now()): Record<string, string> {
  const nonce = `n-${Math.random().toString(36).slice(2)}`;
  const signature = signSevenWebhook(SEVEN_SECRET, { timestamp: String(timestamp), nonce, method: 'POST', url, body });
  return { 'content-type': 'application/json', 'x-signature': signature, 'x-timestamp': String(timestamp), 'x-nonce': nonce };
}

function smartHeaders(body: string): Record<string, string> {
  return { 'content-type': 'application/json', 'x-dokubox-timestamp': String(now()), 'x-dokubox-signature': signSmartEvent(SMART_SECRET, now(), body) };
}

// An event without delivery reports: accepted at once (a report of an unknown message would be looked up again for a while).
const dlr = JSON.stringify({ webhook_event: 'sms_mo', webhook_timestamp: '2026-03-02 10:00:00', data: { id: '99001', sender: '4915100000000', text: 'hello' } });
const smartEvent = JSON.stringify({ id: 'ev-1', type: 'compartment.closed', controllerId: 'ctl-test', compartmentId: '001', occurredAt: '2026-03-02T09:00:00Z' });

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

/** Sends the headers and the first KiB of a body declared `declared` bytes long, and resolves with the answer without sending the rest. */
const partialUpload = (path: string, headers: Record<string, string>, declared: number) => answerToPartialUpload(new URL(path, base), headers, declared, 1024);

describe('seven.io delivery-report webhook', () => {
  it('accepts a signed event', async () => {
    const res = await post('/sms/v1/seven/webhook', sevenHeaders(dlr), dlr);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('refuses a request without signature headers from its headers, reading none of its body', async () => {
    const body = lazyBody(1024 * 1024);
    const res = await post('/sms/v1/seven/webhook', { 'content-type': 'application/json' }, body.stream);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('missing_headers');
    expect(body.pulled()).toBe(0);
  });

  it('refuses a stale signature timestamp before reading the body', async () => {
    const body = lazyBody(1024 * 1024);
    const res = await post('/sms/v1/seven/webhook', sevenHeaders('', undefined, now() - 3600), body.stream);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('stale');
    expect(body.pulled()).toBe(0);
  });

  it('answers 413 with the error envelope for a declared Content-Length over 16 KiB, reading none of the body', async () => {
    const body = lazyBody(100 * 1024 * 1024);
    const res = await post('/sms/v1/seven/webhook', { ...sevenHeaders(''), 'content-length': String(100 * 1024 * 1024) }, body.stream);
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('BODY_TOO_LARGE');
    expect(body.pulled()).toBe(0);
  });

  it('stops reading a streamed body as soon as it passes 16 KiB and answers 413', async () => {
    const body = lazyBody(1024 * 1024, 4096);
    const res = await post('/sms/v1/seven/webhook', sevenHeaders(''), body.stream);
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('BODY_TOO_LARGE');
    expect(body.pulled()).toBeLessThanOrEqual(LIMIT + 4096);
  });

  it('over a socket, answers an oversized upload with 413 before the rest of it is sent, and closes the connection', async () => {
    const answer = await partialUpload('/sms/v1/seven/webhook', sevenHeaders('', `${base}/sms/v1/seven/webhook`), 100 * 1024 * 1024);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
    expect(answer.connection).toBe('close');
  }, 10_000);
});

describe('smart locker event webhook', () => {
  const path = '/locker/v1/boxes/smart-foyer/events';

  it('accepts a signed event', async () => {
    const res = await post(path, smartHeaders(smartEvent), smartEvent);
    expect(res.status).toBe(204);
  });

  it('refuses an unsigned event from its headers, reading none of its body', async () => {
    const body = lazyBody(1024 * 1024);
    const res = await post(path, { 'content-type': 'application/json' }, body.stream);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('UNAUTHENTICATED');
    expect(body.pulled()).toBe(0);
  });

  it('answers 404 for a box without a smart controller, reading none of the body', async () => {
    const body = lazyBody(1024 * 1024);
    const res = await post('/locker/v1/boxes/no-such-box/events', smartHeaders(''), body.stream);
    expect(res.status).toBe(404);
    expect(body.pulled()).toBe(0);
  });

  it('answers 413 for a declared Content-Length over 16 KiB, reading none of the body', async () => {
    const body = lazyBody(100 * 1024 * 1024);
    const res = await post(path, { ...smartHeaders(''), 'content-length': String(100 * 1024 * 1024) }, body.stream);
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('BODY_TOO_LARGE');
    expect(body.pulled()).toBe(0);
  });

  it('stops reading a streamed body as soon as it passes 16 KiB and answers 413', async () => {
    const body = lazyBody(1024 * 1024, 4096);
    const res = await post(path, smartHeaders(''), body.stream);
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('BODY_TOO_LARGE');
    expect(body.pulled()).toBeLessThanOrEqual(LIMIT + 4096);
  });

  it('over a socket, answers an oversized upload with 413 before the rest of it is sent', async () => {
    const answer = await partialUpload(path, smartHeaders(''), 100 * 1024 * 1024);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
  }, 10_000);
});
