/**
 * The kiosk's HTTP surface without a browser: enrollment and its cookie,
 * what an unenrolled or forged caller gets, bad input on every kiosk route,
 * CSRF, staff sessions bound to their kiosk, revocation, and the API that
 * staff and admins use to manage kiosks and staff accounts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, KEYS, type TestWorld } from '../support/harness.js';

let world: TestWorld;

beforeAll(async () => {
  world = await createWorld({ env: { BOXES_DIR: 'tests/fixtures/boxes-kiosk', BOX_OPENING_HOURS: 'enforce' } });
  const account = await world.request('PUT', '/v1/staff-accounts/2002', { key: KEYS.admin, body: { pin: '135790', name: 'K. Weber' } });
  expect(account.status).toBe(204);
});
afterAll(async () => {
  await world?.close();
});

const page = (path: string, init: { method?: string; cookie?: string; body?: string; headers?: Record<string, string> } = {}) =>
  world.dokubox.app.request(path, {
    method: init.method ?? 'GET',
    // Browsers send the page's own origin with every POST; the CSRF check compares it.
    headers: { ...(init.method === 'POST' ? { origin: 'http://localhost' } : {}), ...(init.cookie === undefined ? {} : { cookie: init.cookie }), ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });

const kioskIds = async (): Promise<string[]> =>
  ((await (await world.request('GET', '/v1/boxes/md-kiosk/kiosks', { key: KEYS.staff })).json()) as { kiosks: { id: string }[] }).kiosks.map((d) => d.id);

async function enrol(): Promise<{ cookie: string; setCookie: string; deviceId: string }> {
  const before = new Set(await kioskIds());
  const created = await world.request('POST', '/v1/kiosk-enrollments', { key: KEYS.staff, body: { boxId: 'md-kiosk' } });
  expect(created.status).toBe(201);
  const { code } = (await created.json()) as { code: string };
  const redeemed = await page('/kiosk/enroll', { method: 'POST', body: new URLSearchParams({ code: code.toLowerCase() }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(redeemed.status).toBe(303);
  const setCookie = redeemed.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  const [deviceId] = (await kioskIds()).filter((id) => !before.has(id));
  return { cookie, setCookie, deviceId: deviceId ?? '' };
}

describe('enrolling a kiosk', () => {
  it('gives the browser an httpOnly, SameSite=Strict cookie for /kiosk, and nothing secret in the page', async () => {
    const { cookie, setCookie } = await enrol();
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\/kiosk/);
    const html = await (await page('/kiosk/de', { cookie })).text();
    expect(html).toContain('data-screen="step-mobile"');
    expect(html).not.toContain(cookie.split('=')[1]);
    for (const key of Object.values(KEYS)) expect(html).not.toContain(key);
  });

  it('refuses a wrong code, and answers 429 with Retry-After after many wrong codes from one client', async () => {
    const guess = (code: string) => page('/kiosk/enroll', { method: 'POST', body: `code=${code}`, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9' } });
    const first = await guess('AAAAA-BBBBB');
    expect(first.status).toBe(401);
    expect(await first.text()).toContain('Der Code ist falsch, schon benutzt oder abgelaufen.');
    let last = first;
    for (let i = 0; i < 25 && last.status !== 429; i += 1) last = await guess(`AAAAA-BBBB${i % 9}`);
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('accepts an enrollment code only once', async () => {
    const created = await world.request('POST', '/v1/kiosk-enrollments', { key: KEYS.staff, body: { boxId: 'md-kiosk' } });
    const { code } = (await created.json()) as { code: string };
    const redeem = () => page('/kiosk/enroll', { method: 'POST', body: `code=${code}`, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.10' } });
    expect((await redeem()).status).toBe(303);
    expect((await redeem()).status).toBe(401);
  });

  it('refuses a form posted from another origin (CSRF)', async () => {
    const res = await page('/kiosk/enroll', { method: 'POST', body: 'code=AAAAA-BBBBB', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://attacker.example' } });
    expect(res.status).toBe(403);
  });
});

describe('without an enrolled device', () => {
  it('sends pages to the enrollment form and refuses the API with a message', async () => {
    const pageAnswer = await page('/kiosk/de');
    expect(pageAnswer.status).toBe(303);
    expect(pageAnswer.headers.get('location')).toBe('/kiosk/enroll');
    for (const cookie of [undefined, 'dokubox_kiosk=forged-token', `dokubox_kiosk=${'x'.repeat(300)}`]) {
      const api = await page('/kiosk/api/status', cookie === undefined ? {} : { cookie });
      expect(api.status).toBe(401);
      expect(((await api.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('/kiosk/enroll') });
    }
  });

  it('stops working once staff revoke the device', async () => {
    const { cookie, deviceId } = await enrol();
    expect((await page('/kiosk/api/status', { cookie })).status).toBe(200);
    expect((await world.request('DELETE', `/v1/kiosks/${deviceId}`, { key: KEYS.staff })).status).toBe(204);
    expect((await page('/kiosk/api/status', { cookie })).status).toBe(401);
    expect((await world.request('DELETE', `/v1/kiosks/${deviceId}`, { key: KEYS.staff })).status).toBe(404);
  });
});

describe('bad input at the kiosk', () => {
  it('answers malformed, oversized and incomplete pickup entries with a clear 4xx', async () => {
    const { cookie } = await enrol();
    const json = { 'content-type': 'application/json' };
    const post = (body: string) => page('/kiosk/api/pickups', { method: 'POST', cookie, body, headers: json });
    expect((await post('{')).status).toBe(400);
    expect((await post('{"code": 123456}')).status).toBe(400);
    expect((await post('{"code": "123456", "extra": true}')).status).toBe(400);
    expect((await post(JSON.stringify({ code: '123456', mobile: 'x'.repeat(5000) }))).status).toBe(413);
    // A well-formed entry at a box without a connected locker: out of order, nothing counted.
    const offline = await post(JSON.stringify({ code: '123456', mobile: '+4915112345678', dateOfBirth: '01.01.1990' }));
    expect(offline.status).toBe(503);
    expect(await offline.json()).toMatchObject({ error: { code: 'BOX_OFFLINE' }, screen: 'offline' });
  });

  it('signs staff in only with the right PIN, binds the session to its kiosk, and refuses staff actions without one', async () => {
    const a = await enrol();
    const b = await enrol();
    const json = { 'content-type': 'application/json' };
    const signIn = (cookie: string, body: string) => page('/kiosk/de/staff/sign-in', { method: 'POST', cookie, body, headers: json });
    expect((await signIn(a.cookie, '{')).status).toBe(400);
    const wrong = await signIn(a.cookie, JSON.stringify({ staffNumber: '2002', pin: '000000' }));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ message: 'Nummer oder PIN ist falsch.' });
    const right = await signIn(a.cookie, JSON.stringify({ staffNumber: '2002', pin: '135790' }));
    expect(right.status).toBe(200);
    const staffCookie = (right.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(right.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    const release = (cookie: string) => page('/kiosk/api/staff/release', { method: 'POST', cookie, body: '{}', headers: json });
    expect((await release(a.cookie)).status).toBe(401);
    expect((await release(`${a.cookie}; ${staffCookie}`)).status).toBe(200);
    // The same staff cookie at another kiosk is refused.
    expect((await release(`${b.cookie}; ${staffCookie}`)).status).toBe(401);
    // A session shown at the wrong kiosk is ended: staff sign in again.
    const afterMisuse = await page('/kiosk/api/staff/compartments/99/defective', { method: 'POST', cookie: `${a.cookie}; ${staffCookie}`, body: '{}', headers: json });
    expect(afterMisuse.status).toBe(401);
  });

  it('sets a content security policy that allows only the app’s own scripts', async () => {
    const { cookie } = await enrol();
    const res = await page('/kiosk/de', { cookie });
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });
});

describe('managing kiosks and staff accounts', () => {
  it('refuses wrong roles, other authorities’ boxes and bad PINs', async () => {
    expect((await world.request('POST', '/v1/kiosk-enrollments', { key: KEYS.kiosk, body: { boxId: 'md-kiosk' } })).status).toBe(403);
    expect((await world.request('POST', '/v1/kiosk-enrollments', { key: KEYS.staff, body: { boxId: 'bo-kiosk' } })).status).toBe(422);
    expect((await world.request('POST', '/v1/kiosk-enrollments', { key: KEYS.staff, body: {} })).status).toBe(400);
    expect((await world.request('PUT', '/v1/staff-accounts/2003', { key: KEYS.staff, body: { pin: '135790' } })).status).toBe(403);
    const bad = await world.request('PUT', '/v1/staff-accounts/2003', { key: KEYS.admin, body: { pin: '12' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('pin');
    expect((await world.request('PUT', `/v1/staff-accounts/${'x'.repeat(40)}`, { key: KEYS.admin, body: { pin: '135790' } })).status).toBe(400);
    expect((await world.request('DELETE', '/v1/staff-accounts/never-existed', { key: KEYS.admin })).status).toBe(404);
    expect((await world.request('POST', '/v1/kiosks/not%20a%20device/release', { key: KEYS.staff })).status).toBe(404);
  });
});
