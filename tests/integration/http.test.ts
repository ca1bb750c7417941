import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, KEYS, notice, BOX, type TestWorld } from '../support/harness.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => world.close());

async function storedPickups(): Promise<number> {
  return (await world.dokubox.redis.keys(`${world.config.REDIS_KEY_PREFIX}:pickup:*`)).length;
}

async function expectError(res: Response, status: number, code: string, field?: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string; field?: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(body.error.requestId).toBeTruthy();
  if (field !== undefined) expect(body.error.field).toBe(field);
  return body.error;
}

describe('POST /v1/notices', () => {
  it('creates a pickup (201) and answers a repeat with the original (200)', async () => {
    const input = notice();
    const created = await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input });
    expect(created.status).toBe(201);
    const first = (await created.json()) as { outcome: string; pickup: { id: string; state: string } };
    expect(first).toMatchObject({ outcome: 'created', pickup: { state: 'reserved' } });
    expect(created.headers.get('location')).toBe(`/v1/pickups/${first.pickup.id}`);
    const repeat = await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input });
    expect(repeat.status).toBe(200);
    expect(((await repeat.json()) as { pickup: { id: string } }).pickup.id).toBe(first.pickup.id);
  });

  it('answers the same message id with other content with 409 and stores nothing new', async () => {
    const input = notice();
    await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input });
    const before = await storedPickups();
    const res = await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: { ...input, caseNumber: 'AZ-OTHER' } });
    await expectError(res, 409, 'IDEMPOTENCY_CONFLICT', 'messageId');
    expect(await storedPickups()).toBe(before);
  });

  it('never returns personal data', async () => {
    const res = await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: notice() });
    const text = await res.text();
    for (const secret of ['Abdullahi', 'Amina', '1991-04-17', '15123456789']) expect(text).not.toContain(secret);
  });

  const bad: [string, () => { rawBody?: string; body?: unknown; headers?: Record<string, string> }, number, string, string | undefined][] = [
    ['malformed JSON', () => ({ rawBody: '{"messageId": ', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_BODY', undefined],
    ['an empty body', () => ({ rawBody: '', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_BODY', undefined],
    ['a non-JSON media type', () => ({ rawBody: '<notice/>', headers: { 'content-type': 'application/xml' } }), 415, 'UNSUPPORTED_MEDIA_TYPE', undefined],
    ['a missing field', () => ({ body: { ...notice(), caseNumber: undefined } }), 400, 'VALIDATION_FAILED', 'caseNumber'],
    ['a wrong type', () => ({ body: { ...notice(), accessible: 'yes' } }), 400, 'VALIDATION_FAILED', 'accessible'],
    ['an array body', () => ({ body: [notice()] }), 400, 'VALIDATION_FAILED', undefined],
    ['an unknown box', () => ({ body: notice({ boxId: 'nowhere' }) }), 422, 'UNKNOWN_BOX', 'boxId'],
    ["another authority's box", () => ({ body: notice({ boxId: 'dd-rathaus' }) }), 422, 'UNKNOWN_BOX', 'boxId'],
    ['another authority in the notice', () => ({ body: notice({ authority: 'dresden-abh' }) }), 403, 'FORBIDDEN', 'authority'],
    ['an unknown document type', () => ({ body: notice({ documents: [{ type: 'visa', serialNumber: 'V12345678' }] }) }), 422, 'UNKNOWN_DOCUMENT_TYPE', 'documents[0].type'],
    ['no consent', () => ({ body: notice({ consent: false }) }), 422, 'CONSENT_MISSING', 'consent'],
    ['a landline', () => ({ body: notice({ mobile: '+49 391 540 0' }) }), 422, 'INVALID_PHONE', 'mobile'],
    ['an impossible date of birth', () => ({ body: notice({ person: { familyName: 'X', givenNames: '', dateOfBirth: '1990-02-31' } }) }), 422, 'INVALID_DATE', 'person.dateOfBirth'],
    ['an oversized body', () => ({ body: { ...notice(), caseNumber: 'x'.repeat(70_000) } }), 413, 'BODY_TOO_LARGE', undefined],
  ];

  it.each(bad)('rejects %s with a clear error and stores nothing', async (_name, make, status, code, field) => {
    const before = await storedPickups();
    const res = await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, ...make() });
    await expectError(res, status, code, field);
    expect(await storedPickups()).toBe(before);
  });
});

describe('authentication and authorities', () => {
  it('rejects a missing and an unknown key with 401 on every protected endpoint', async () => {
    for (const [method, path] of [
      ['POST', '/v1/notices'],
      ['GET', '/v1/pickups/x'],
      ['GET', '/v1/pickups?messageId=x'],
      ['POST', '/v1/pickups/x/cancel'],
      ['GET', '/v1/boxes'],
      ['GET', `/v1/boxes/${BOX}/compartments`],
      ['POST', `/v1/boxes/${BOX}/loadings`],
      ['POST', `/v1/boxes/${BOX}/verifications`],
      ['GET', '/metrics'],
    ] as const) {
      await expectError(await world.request(method, path, { key: null }), 401, 'UNAUTHENTICATED');
      await expectError(await world.request(method, path, { key: 'not-a-real-key-0000000' }), 401, 'UNAUTHENTICATED');
    }
  });

  it('rejects a key whose role does not fit the endpoint with 403', async () => {
    await expectError(await world.request('POST', '/v1/notices', { key: KEYS.kiosk, body: notice() }), 403, 'FORBIDDEN');
    await expectError(await world.request('POST', `/v1/boxes/${BOX}/verifications`, { key: KEYS.caseSystem, body: { code: '123456', dateOfBirth: '1990-01-01' } }), 403, 'FORBIDDEN');
    await expectError(await world.request('GET', '/metrics', { key: KEYS.caseSystem }), 403, 'FORBIDDEN');
  });

  it("never shows one authority's pickups or boxes to another", async () => {
    const created = (await (await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: notice() })).json()) as { pickup: { id: string; messageId: string } };
    await expectError(await world.request('GET', `/v1/pickups/${created.pickup.id}`, { key: KEYS.otherAuthority }), 404, 'NOT_FOUND');
    await expectError(await world.request('GET', `/v1/pickups?messageId=${created.pickup.messageId}`, { key: KEYS.otherAuthority }), 404, 'NOT_FOUND');
    await expectError(await world.request('POST', `/v1/pickups/${created.pickup.id}/cancel`, { key: KEYS.otherAuthority }), 404, 'NOT_FOUND');
    const boxes = (await (await world.request('GET', '/v1/boxes', { key: KEYS.otherAuthority })).json()) as { boxes: { id: string }[] };
    expect(boxes.boxes.map((b) => b.id)).toEqual(['dd-rathaus']);
    expect((await world.request('GET', `/v1/pickups/${created.pickup.id}`, { key: KEYS.caseSystem })).status).toBe(200);
  });
});

describe('pickups and boxes endpoints', () => {
  it('reads a pickup by id and by message id, and cancels it', async () => {
    const created = (await (await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: notice() })).json()) as { pickup: { id: string; messageId: string } };
    const byId = await world.request('GET', `/v1/pickups/${created.pickup.id}`, { key: KEYS.caseSystem });
    expect(byId.status).toBe(200);
    const byMessage = (await (await world.request('GET', `/v1/pickups?messageId=${created.pickup.messageId}`, { key: KEYS.caseSystem })).json()) as { id: string };
    expect(byMessage.id).toBe(created.pickup.id);
    const cancelled = await world.request('POST', `/v1/pickups/${created.pickup.id}/cancel`, { key: KEYS.caseSystem });
    expect(((await cancelled.json()) as { state: string }).state).toBe('cancelled');
    await expectError(await world.request('POST', `/v1/pickups/${created.pickup.id}/cancel`, { key: KEYS.caseSystem }), 409, 'ILLEGAL_TRANSITION');
  });

  it('says where malformed JSON breaks without repeating any of it', async () => {
    const rawBody = '{"messageId": "m-1",\n "mobile": +4915199990000}';
    const error = await expectError(await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, rawBody, headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_BODY');
    expect(error.message).toContain('line 2, column 12');
    expect(error.message).not.toMatch(/4915199990000|mobile|\+49/);
  });

  it('names the expected type when a field is there but has the wrong type, and "required" only when it is missing', async () => {
    const wrongType = await expectError(
      await world.request('POST', `/v1/boxes/${BOX}/verifications`, { key: KEYS.kiosk, body: { code: 482913, dateOfBirth: '1990-05-17' } }),
      400,
      'VALIDATION_FAILED',
      'code',
    );
    expect(wrongType.message).toBe('Field code must be a string, not a number.');
    expect(wrongType.message).not.toContain('482913');
    const missing = await expectError(await world.request('POST', `/v1/boxes/${BOX}/verifications`, { key: KEYS.kiosk, body: { dateOfBirth: '1990-05-17' } }), 400, 'VALIDATION_FAILED', 'code');
    expect(missing.message).toBe('Field code is required.');
    const noticeType = await expectError(await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: { ...notice(), accessible: 'yes' } }), 400, 'VALIDATION_FAILED', 'accessible');
    expect(noticeType.message).toBe('Field accessible must be true or false, not a string.');
  });

  it('names an unknown field of a cancellation as unknown, not as a wrong reason', async () => {
    const error = await expectError(await world.request('POST', '/v1/pickups/x/cancel', { key: KEYS.caseSystem, body: { reason: 'cancelled_by_staff', why: 'moved' } }), 400, 'VALIDATION_FAILED', 'why');
    expect(error.message).toContain('Unknown field(s) why');
    const wrongReason = await expectError(await world.request('POST', '/v1/pickups/x/cancel', { key: KEYS.caseSystem, body: { reason: 'bored' } }), 400, 'VALIDATION_FAILED', 'reason');
    expect(wrongReason.message).toBe('Field reason must be one of cancelled_by_case_system, cancelled_by_staff.');
  });

  it('logs the error code of a rejected SOAP request (only pickup codes are redacted)', async () => {
    await world.request('POST', '/soap/v1/pickup', { key: null, rawBody: '<not-an-envelope/>', headers: { 'content-type': 'text/xml' } });
    const line = world.logs.map((l) => JSON.parse(l) as { msg: string; code?: string }).find((l) => l.msg === 'case-system request rejected');
    expect(line?.code).toMatch(/^[A-Z_]+$/);
  });

  it('rejects bad input on the pickup endpoints', async () => {
    await expectError(await world.request('GET', '/v1/pickups/does-not-exist', { key: KEYS.caseSystem }), 404, 'NOT_FOUND');
    await expectError(await world.request('GET', '/v1/pickups', { key: KEYS.caseSystem }), 400, 'VALIDATION_FAILED', 'messageId');
    await expectError(await world.request('POST', '/v1/pickups/x/cancel', { key: KEYS.caseSystem, body: { reason: 'bored' } }), 400, 'VALIDATION_FAILED', 'reason');
    await expectError(await world.request('POST', '/v1/pickups/x/cancel', { key: KEYS.caseSystem, rawBody: '{', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_BODY');
  });

  it('lists compartments with their state and rejects an unknown box', async () => {
    const res = await world.request('GET', `/v1/boxes/${BOX}/compartments?state=free`, { key: KEYS.staff });
    const body = (await res.json()) as { summary: Record<string, number>; compartments: { state: string }[] };
    expect(res.status).toBe(200);
    expect(Object.values(body.summary).reduce((a, b) => a + b, 0)).toBe(456);
    expect(body.compartments.every((c) => c.state === 'free')).toBe(true);
    await expectError(await world.request('GET', '/v1/boxes/nowhere/compartments', { key: KEYS.staff }), 422, 'UNKNOWN_BOX');
  });

  it('rejects bad input on loadings, verifications and compartment actions', async () => {
    await expectError(await world.request('POST', `/v1/boxes/${BOX}/loadings`, { key: KEYS.staff, body: {} }), 400, 'VALIDATION_FAILED', 'serialNumber');
    await expectError(await world.request('POST', `/v1/boxes/${BOX}/loadings`, { key: KEYS.staff, body: { serialNumber: 'NOPE00000' } }), 404, 'NOT_FOUND', 'serialNumber');
    await expectError(await world.request('POST', `/v1/boxes/${BOX}/verifications`, { key: KEYS.kiosk, body: { code: 123456 } }), 400, 'VALIDATION_FAILED', 'code');
    await expectError(await world.request('POST', `/v1/boxes/${BOX}/verifications`, { key: KEYS.kiosk, body: { code: '123456', dateOfBirth: '1990-01-01' } }), 401, 'VERIFICATION_FAILED');
    await expectError(await world.request('POST', `/v1/boxes/${BOX}/compartments/999/repaired`, { key: KEYS.staff }), 404, 'NOT_FOUND');
    await expectError(await world.request('POST', `/v1/boxes/${BOX}/compartments/001/explode`, { key: KEYS.staff }), 404, 'NOT_FOUND');
  });

  it('answers unknown paths with the error envelope', async () => {
    await expectError(await world.request('GET', '/v2/anything'), 404, 'NOT_FOUND');
  });
});

describe('operations endpoints', () => {
  it('answers liveness and readiness without a key', async () => {
    expect((await world.request('GET', '/livez', { key: null })).status).toBe(200);
    const ready = await world.request('GET', '/readyz', { key: null });
    expect(await ready.json()).toEqual({ status: 'ok', redis: 'ok' });
  });

  it('exposes pickups by state, compartments by state and HTTP latency to monitoring keys', async () => {
    const res = await world.request('GET', '/metrics', { key: KEYS.monitoring });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(/dokubox_pickups\{state="reserved"\} \d+/);
    expect(text).toMatch(/dokubox_compartments\{box="md-foyer",state="free"\} \d+/);
    expect(text).toContain('dokubox_http_request_duration_seconds_bucket');
  });

  it('serves the API docs and their assets from the package, without a CDN', async () => {
    const page = await (await world.request('GET', '/docs', { key: null })).text();
    expect(page).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(page).not.toMatch(/https?:\/\//);
    const bundle = await world.request('GET', '/docs/assets/swagger-ui-bundle.js', { key: null });
    expect(bundle.status).toBe(200);
    const spec = (await (await world.request('GET', '/openapi.json', { key: null })).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toContain('/v1/notices');
  });
});
