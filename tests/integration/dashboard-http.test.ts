import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardAuth } from '../../src/web/dashboard/auth.js';
import { loadCatalogues } from '../../src/web/i18n.js';
import { AUTHORITY, createWorld, type TestWorld } from '../support/harness.js';

const MINUTE = 60_000;
const PW = 'a long password for tests';
const ORIGIN = 'http://localhost';
const FORM = { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' };

let world: TestWorld;
/** A second app with routes that use requirePerson the way the dashboard's pages will. */
let probe: Hono;

const request = (path: string, init: RequestInit = {}): Promise<Response> => Promise.resolve(world.dokubox.app.request(path, init));
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const cookieOf = (res: Response): string => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

async function signIn(username: string, password = PW, extra: Record<string, string> = {}): Promise<Response> {
  return request('/dashboard/sign-in', { method: 'POST', headers: { ...FORM, ...extra }, body: form({ username, password }) });
}

/** Signs in and reads the session's CSRF token from the start page. */
async function session(username: string): Promise<{ cookie: string; csrf: string }> {
  const res = await signIn(username);
  expect(res.status).toBe(303);
  const cookie = cookieOf(res);
  const page = await (await request('/dashboard', { headers: { cookie } })).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? '';
  expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { cookie, csrf };
}

beforeAll(async () => {
  world = await createWorld();
  const { accounts, sessions } = world.dokubox.dashboard;
  const now = world.clock.now();
  await accounts.create({ username: 'md.admin', authority: AUTHORITY, role: 'admin', password: PW, name: 'M. Admin' }, now);
  await accounts.create({ username: 'md.clerk', authority: AUTHORITY, role: 'clerk', password: PW }, now);
  await accounts.create({ username: 'md.lock', authority: AUTHORITY, role: 'clerk', password: PW }, now);
  await accounts.create({ username: 'md.gone', authority: AUTHORITY, role: 'clerk', password: PW }, now);
  const auth = dashboardAuth({ accounts, sessions, clock: world.clock, catalogues: loadCatalogues('mappings/i18n'), secureCookies: true, logger: world.dokubox.logger });
  auth.routes.get('/admin-only', auth.requirePerson('admin'), (c) => c.json({ admin: c.get('person').username }));
  auth.routes.get('/api/whoami', auth.requirePerson('clerk'), (c) => c.json({ username: c.get('person').username, authority: c.get('person').authority }));
  auth.routes.post('/api/things', auth.requirePerson('clerk'), (c) => c.json({ done: true }));
  probe = new Hono().route('/dashboard', auth.routes as unknown as Hono);
});

afterAll(async () => {
  await world?.close();
});

describe('the sign-in page', () => {
  it('is German by default, English with ?lang=en or when the browser asks for English', async () => {
    const german = await request('/dashboard/sign-in');
    expect(german.status).toBe(200);
    const html = await german.text();
    expect(html).toContain('<html lang="de" dir="ltr">');
    expect(html).toContain('Benutzername');
    expect(html).toMatch(/<input id="password" name="password" type="password" autocomplete="current-password"/);
    expect(await (await request('/dashboard/sign-in?lang=en')).text()).toContain('Username');
    expect(await (await request('/dashboard/sign-in', { headers: { 'accept-language': 'en-GB,en;q=0.9,de;q=0.5' } })).text()).toContain('Sign in with your username');
    expect(await (await request('/dashboard/sign-in?lang=ar')).text()).toContain('dir="rtl"');
    expect(await (await request('/dashboard/sign-in?lang=xx')).text()).toContain('lang="de"');
  });

  it('sends a strict content security policy and forbids caching and framing', async () => {
    const res = await request('/dashboard/sign-in');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const css = /<link rel="stylesheet" href="([^"]+)"/.exec(await res.text())?.[1] ?? '';
    expect((await request(css)).headers.get('content-type')).toContain('text/css');
    expect((await request('/dashboard/assets/other.css')).status).toBe(404);
  });
});

describe('signing in', () => {
  it('sets an httpOnly, SameSite=Strict session cookie limited to /dashboard and answers 303 to /dashboard', async () => {
    const res = await signIn('MD.Clerk');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^dokubox_session=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/dashboard');
    expect(cookie).toContain('Max-Age=28800');
    expect(cookie).not.toContain('Secure');
    const page = await request('/dashboard', { headers: { cookie: cookieOf(res) } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Angemeldet als md.clerk');
    expect(html).toContain('Sachbearbeitung');
    expect(html).toMatch(/<input type="hidden" name="csrf" value="[A-Za-z0-9_-]{43}"/);
  });

  it('marks the cookie Secure when configured (SECURE_COOKIES, default in production)', async () => {
    const res = await probe.request('/dashboard/sign-in', { method: 'POST', headers: FORM, body: form({ username: 'md.clerk', password: PW }) });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toContain('Secure');
  });

  it('answers every failure with one message and 401: wrong password, unknown or malformed username, missing fields', async () => {
    const attempts: Record<string, string>[] = [
      { username: 'md.admin', password: 'wrong password here' },
      { username: 'no.such.person', password: PW },
      { username: 'not a username!', password: PW },
      { username: 'md.admin' },
      {},
    ];
    for (const fields of attempts) {
      const res = await request('/dashboard/sign-in', { method: 'POST', headers: FORM, body: form(fields) });
      expect(res.status, JSON.stringify(fields)).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
      const html = await res.text();
      expect(html).toContain('Benutzername oder Passwort ist falsch.');
      expect(html).not.toContain('wrong password here');
    }
    const english = await request('/dashboard/sign-in?lang=en', { method: 'POST', headers: FORM, body: form({ username: 'md.admin', password: 'nope nope nope' }) });
    expect(await english.text()).toContain('Username or password is wrong.');
  });

  it('refuses a disabled account with the same message', async () => {
    await world.dokubox.dashboard.accounts.disable('md.gone');
    const res = await signIn('md.gone');
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Benutzername oder Passwort ist falsch.');
    await world.dokubox.dashboard.accounts.enable('md.gone');
  });

  it('locks the username after 5 failures: 429 with the unlock time, even for the right password', async () => {
    for (let i = 0; i < 4; i += 1) expect((await signIn('md.lock', 'wrong password here')).status).toBe(401);
    const fifth = await signIn('md.lock', 'wrong password here');
    expect(fifth.status).toBe(429);
    // 09:00 UTC is 10:00 in Berlin; locked 15 minutes.
    expect(await fifth.text()).toContain('gesperrt bis 10:15 Uhr');
    expect(fifth.headers.get('retry-after')).toBe('900');
    const right = await signIn('md.lock');
    expect(right.status).toBe(429);
    expect(right.headers.get('set-cookie')).toBeNull();
    world.clock.advance(15 * MINUTE);
    expect((await signIn('md.lock')).status).toBe(303);
  });

  it('starts a new session at every sign-in and ends the one the browser held', async () => {
    const first = await signIn('md.clerk');
    const second = await signIn('md.clerk', PW, { cookie: cookieOf(first) });
    expect(cookieOf(second)).not.toBe(cookieOf(first));
    expect((await request('/dashboard', { headers: { cookie: cookieOf(first) } })).status).toBe(303);
    expect((await request('/dashboard', { headers: { cookie: cookieOf(second) } })).status).toBe(200);
  });

  it('sends a signed-in person from the sign-in page to the dashboard', async () => {
    const { cookie } = await session('md.clerk');
    const res = await request('/dashboard/sign-in', { headers: { cookie } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard');
  });

  it('never logs a password', async () => {
    await signIn('md.admin', 'logged-password-never-1');
    await signIn('md.admin');
    expect(world.logs.join('\n')).not.toContain('logged-password-never-1');
    expect(world.logs.join('\n')).not.toContain(PW);
    expect(world.logs.join('\n')).toContain('dashboard sign-in');
  });
});

describe('CSRF', () => {
  it('refuses a POST without the session token, or with a wrong one: 403 CSRF_REFUSED, the session stays', async () => {
    const { cookie, csrf } = await session('md.clerk');
    const json = { ...FORM, cookie, accept: 'application/json' };
    const without = await request('/dashboard/sign-out', { method: 'POST', headers: json, body: '' });
    expect(without.status).toBe(403);
    expect(((await without.json()) as { error: { code: string } }).error.code).toBe('CSRF_REFUSED');
    const wrong = await request('/dashboard/sign-out', { method: 'POST', headers: json, body: form({ csrf: csrf.endsWith('A') ? `${csrf.slice(0, -1)}B` : `${csrf.slice(0, -1)}A` }) });
    expect(wrong.status).toBe(403);
    const otherSession = await session('md.admin');
    const foreignToken = await request('/dashboard/sign-out', { method: 'POST', headers: json, body: form({ csrf: otherSession.csrf }) });
    expect(foreignToken.status).toBe(403);
    expect((await request('/dashboard', { headers: { cookie } })).status).toBe(200);
  });

  it('refuses a form from another origin, or one without Origin and Sec-Fetch-Site, even with the right token', async () => {
    const { cookie, csrf } = await session('md.clerk');
    const foreign = await request('/dashboard/sign-out', { method: 'POST', headers: { ...FORM, origin: 'https://evil.example', cookie, accept: 'application/json' }, body: form({ csrf }) });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('CSRF_REFUSED');
    const bare = await request('/dashboard/sign-out', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: form({ csrf }) });
    expect(bare.status).toBe(403);
    const signInFromElsewhere = await request('/dashboard/sign-in', { method: 'POST', headers: { ...FORM, origin: 'https://evil.example' }, body: form({ username: 'md.clerk', password: PW }) });
    expect(signInFromElsewhere.status).toBe(403);
    expect(signInFromElsewhere.headers.get('set-cookie')).toBeNull();
    expect((await request('/dashboard', { headers: { cookie } })).status).toBe(200);
  });

  it('shows a person a page that explains the refusal, with the error code', async () => {
    const { cookie } = await session('md.clerk');
    const res = await request('/dashboard/sign-out?lang=en', { method: 'POST', headers: { ...FORM, cookie, accept: 'text/html' }, body: '' });
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain('did not come from this page');
    expect(html).toContain('CSRF_REFUSED');
  });

  it('signs out with the form field or the x-csrf-token header (fetch), and the old cookie is dead afterwards', async () => {
    const viaForm = await session('md.clerk');
    const out = await request('/dashboard/sign-out', { method: 'POST', headers: { ...FORM, cookie: viaForm.cookie }, body: form({ csrf: viaForm.csrf }) });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/dashboard/sign-in?ended=signed-out');
    expect(out.headers.get('set-cookie')).toMatch(/^dokubox_session=; Max-Age=0; Path=\/dashboard/);
    expect((await request('/dashboard', { headers: { cookie: viaForm.cookie } })).status).toBe(303);
    expect(await (await request('/dashboard/sign-in?ended=signed-out')).text()).toContain('Sie sind abgemeldet.');

    const viaHeader = await session('md.clerk');
    const fetched = await request('/dashboard/sign-out', { method: 'POST', headers: { origin: ORIGIN, cookie: viaHeader.cookie, 'x-csrf-token': viaHeader.csrf } });
    expect(fetched.status).toBe(303);
    expect((await request('/dashboard', { headers: { cookie: viaHeader.cookie } })).status).toBe(303);
  });

  it('checks the token on JSON calls too (x-csrf-token)', async () => {
    const { cookie, csrf } = await session('md.clerk');
    const json = { origin: ORIGIN, cookie, 'content-type': 'application/json' };
    const refused = await probe.request('/dashboard/api/things', { method: 'POST', headers: json, body: '{}' });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('CSRF_REFUSED');
    const accepted = await probe.request('/dashboard/api/things', { method: 'POST', headers: { ...json, 'x-csrf-token': csrf }, body: '{}' });
    expect(accepted.status).toBe(200);
  });
});

describe('roles and sessions (requirePerson)', () => {
  it('lets an admin through a clerk route and an admin route; a clerk gets 403 with a clear message on an admin route', async () => {
    const admin = await session('md.admin');
    expect(await (await request('/dashboard', { headers: { cookie: admin.cookie } })).text()).toContain('Administration');
    expect((await probe.request('/dashboard/admin-only', { headers: { cookie: admin.cookie } })).status).toBe(200);
    const clerk = await session('md.clerk');
    const refused = await probe.request('/dashboard/admin-only', { headers: { cookie: clerk.cookie, accept: 'application/json' } });
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('FORBIDDEN');
    expect(body.error.message).toBe("You are signed in as 'clerk'; this needs one of: admin.");
    const page = await probe.request('/dashboard/admin-only', { headers: { cookie: clerk.cookie } });
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('Dafür fehlt Ihnen die Berechtigung.');
  });

  it('gives the route the person and their authority', async () => {
    const { cookie } = await session('md.clerk');
    expect(await (await probe.request('/dashboard/api/whoami', { headers: { cookie } })).json()).toEqual({ username: 'md.clerk', authority: AUTHORITY });
  });

  it('sends pages without a session to the sign-in page and answers API calls with 401 JSON', async () => {
    const page = await request('/dashboard');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/dashboard/sign-in');
    const api = await probe.request('/dashboard/api/whoami');
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    const bogus = await request('/dashboard', { headers: { cookie: 'dokubox_session=not-a-token' } });
    expect(bogus.headers.get('location')).toBe('/dashboard/sign-in?ended=expired');
  });

  it('redirects an expired session (30 idle minutes) to sign-in, says so, and clears the cookie', async () => {
    const { cookie } = await session('md.clerk');
    world.clock.advance(29 * MINUTE);
    expect((await request('/dashboard', { headers: { cookie } })).status).toBe(200);
    world.clock.advance(30 * MINUTE);
    const res = await request('/dashboard?lang=en', { headers: { cookie } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard/sign-in?ended=expired&lang=en');
    expect(res.headers.get('set-cookie')).toMatch(/^dokubox_session=; Max-Age=0/);
    expect(await (await request('/dashboard/sign-in?ended=expired&lang=en')).text()).toContain('Your session has ended.');
  });

  it('ends a session 8 hours after sign-in, however busy', async () => {
    const { cookie } = await session('md.clerk');
    for (let i = 0; i < 23; i += 1) {
      world.clock.advance(20 * MINUTE);
      expect((await request('/dashboard', { headers: { cookie } })).status, `after ${(i + 1) * 20} minutes`).toBe(200);
    }
    world.clock.advance(20 * MINUTE);
    expect((await request('/dashboard', { headers: { cookie } })).status).toBe(303);
  });

  it('ends the sessions of a disabled account or after a password change (endAllOf)', async () => {
    const { accounts, sessions } = world.dokubox.dashboard;
    const a = await session('md.gone');
    await accounts.disable('md.gone');
    expect((await request('/dashboard', { headers: { cookie: a.cookie } })).status).toBe(303);
    await accounts.enable('md.gone');
    const b = await session('md.gone');
    await accounts.setPassword('md.gone', 'a brand new password');
    expect(await sessions.endAllOf('md.gone')).toBe(1);
    expect((await request('/dashboard', { headers: { cookie: b.cookie } })).status).toBe(303);
  });

  it('refuses an overlong body with 413', async () => {
    const res = await request('/dashboard/sign-in', { method: 'POST', headers: { ...FORM, accept: 'application/json' }, body: form({ username: 'md.clerk', password: 'x'.repeat(20_000) }) });
    expect(res.status).toBe(413);
  });
});
