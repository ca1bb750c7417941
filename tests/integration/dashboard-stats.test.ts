/**
 * The dashboard's statistics page and CSV of a box, and the queue board for
 * admins (src/web/dashboard/statistics-routes.ts, queues.ts): the rows of a
 * range, a clear 400 page for a bad one, nothing of another authority's box,
 * the CSV's headers and content; bull-board for admins only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientIdentity } from '../../src/service/types.js';
import { AUTHORITY, BOX, createWorld, notice, type TestWorld } from '../support/harness.js';

const PW = 'a long password for tests';
const ORIGIN = 'http://localhost';
const FORM = { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' };
const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

let world: TestWorld;
let clerk: string;
let admin: string;
let otherClerk: string;

const request = (path: string, init: RequestInit = {}): Promise<Response> => Promise.resolve(world.dokubox.app.request(path, init));
const cookieOf = (res: Response): string => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

async function signIn(username: string): Promise<string> {
  const res = await request('/dashboard/sign-in', { method: 'POST', headers: FORM, body: new URLSearchParams({ username, password: PW }).toString() });
  expect(res.status).toBe(303);
  return cookieOf(res);
}

const page = (path: string, cookie: string) => request(path, { headers: { cookie, accept: 'text/html' } });

beforeAll(async () => {
  world = await createWorld({ start: '2026-03-02T08:00:00Z' });
  const { accounts } = world.dokubox.dashboard;
  const now = world.clock.now();
  await accounts.create({ username: 'md.clerk', authority: AUTHORITY, role: 'clerk', password: PW, name: 'K. Meyer' }, now);
  await accounts.create({ username: 'md.admin', authority: AUTHORITY, role: 'admin', password: PW, name: 'M. Schulz' }, now);
  await accounts.create({ username: 'dd.clerk', authority: 'dresden-abh', role: 'clerk', password: PW }, now);

  // Monday 2 March: three notices, one collected, one cancelled; an SMS delivered and one failed.
  const service = world.dokubox.service;
  const ids: string[] = [];
  for (let i = 0; i < 3; i += 1) ids.push((await service.submitNotice(caseSystem, notice({ boxId: BOX }))).pickup.id);
  await service.markLoaded(ids[0]!, 'staff:s1');
  await service.markNotified(ids[0]!, 'system:sms');
  await service.recordSms(ids[0]!, 'sms_delivered');
  await service.recordSms(ids[1]!, 'sms_failed');
  world.clock.set('2026-03-02T08:30:00Z');
  await service.markCollected(ids[0]!, 'kiosk:k1', 'code_and_date_of_birth');
  await service.cancelPickup(caseSystem, { pickupId: ids[2]! }, 'cancelled_by_case_system');
  // Wednesday 4 March: one more notice.
  world.clock.set('2026-03-04T10:00:00Z');
  await service.submitNotice(caseSystem, notice({ boxId: BOX }));
  await world.dokubox.events.drain();

  clerk = await signIn('md.clerk');
  admin = await signIn('md.admin');
  otherClerk = await signIn('dd.clerk');
});

afterAll(async () => {
  await world?.close();
});

describe('the statistics page', () => {
  it('shows a row per day of the range in a table with caption and header cells, a chart and the CSV link', async () => {
    const res = await page(`/dashboard/boxes/${BOX}/statistics?from=2026-03-01&to=2026-03-05&granularity=day`, clerk);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('<html lang="de" dir="ltr">');
    expect(html).toContain('Statistik: ');
    expect(html).toContain('<caption id="stats-caption">Zahlen je Zeitraum (2026-03-01 – 2026-03-05, Tag)</caption>');
    expect(html).toContain('<th scope="col">Bescheide</th>');
    const periods = [...html.matchAll(/<tr data-period="([^"]+)"><th scope="row">/g)].map((m) => m[1]);
    expect(periods).toEqual(['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05']);
    const row = (period: string) => Object.fromEntries([...(new RegExp(`<tr data-period="${period}">(.*?)</tr>`).exec(html)?.[1] ?? '').matchAll(/<td data-column="(\w+)">([^<]*)<\/td>/g)].map((m) => [m[1], m[2]]));
    expect(row('2026-03-02')).toMatchObject({ notices: '3', collected: '1', expired: '0', cancelled: '1', medianMinutesToPickup: '30', smsDelivered: '1', smsFailed: '1', smsDeliveryRate: '50\u00a0%' });
    expect(row('2026-03-04')).toMatchObject({ notices: '1', collected: '0', smsDeliveryRate: '–' });
    expect(row('2026-03-01')).toMatchObject({ notices: '0', medianMinutesToPickup: '–' });
    // The chart: a canvas as an image with a summary, Chart.js and the page's script from the app.
    expect(html).toMatch(/<canvas id="stats-chart" role="img" aria-label="Diagramm der Bescheide[^"]*Bescheide 4, Abgeholt 1, Abgelaufen 0, SMS-Zustellquote 50\u00a0%\."/);
    const chart = /<script defer="" src="(\/dashboard\/assets\/chart\.umd\.[0-9a-f]{10}\.js)"/.exec(html)?.[1];
    expect(chart).toBeDefined();
    const chartJs = await request(chart!);
    expect(chartJs.status).toBe(200);
    expect(chartJs.headers.get('content-type')).toContain('text/javascript');
    expect(chartJs.headers.get('cache-control')).toContain('immutable');
    expect(await chartJs.text()).toContain('Chart.js v4');
    const script = /<script type="module" src="([^"]+)"/.exec(html)?.[1] ?? '';
    expect((await request(script)).status).toBe(200);
    // The box page's own assets are still served (the statistics routes pass on what they do not know).
    const boxPage = await (await page(`/dashboard/boxes/${BOX}`, clerk)).text();
    expect(boxPage).toContain(`href="/dashboard/boxes/${BOX}/statistics?lang=de"`);
    const boxCss = /<link rel="stylesheet" href="([^"]+)"/.exec(boxPage)?.[1] ?? '';
    expect((await request(boxCss)).status).toBe(200);
    expect((await request('/dashboard/assets/nothing.0000000000.js')).status).toBe(404);
    expect(html).toContain(`href="/dashboard/boxes/${BOX}/statistics.csv?from=2026-03-01&amp;to=2026-03-05&amp;granularity=day&amp;lang=de"`);
  });

  it('sums weeks, speaks English with ?lang=en and defaults to the last 30 days by day', async () => {
    const week = await (await page(`/dashboard/boxes/${BOX}/statistics?from=2026-03-02&to=2026-03-08&granularity=week&lang=en`, clerk)).text();
    expect(week).toContain('<html lang="en" dir="ltr">');
    expect(week).toContain('Download CSV');
    expect([...week.matchAll(/<tr data-period="([^"]+)">/g)].map((m) => m[1])).toEqual(['2026-W10']);
    expect(week).toContain('<td data-column="notices">4</td>');
    expect(week).toContain('<td data-column="smsDeliveryRate">50%</td>');

    const defaults = await (await page(`/dashboard/boxes/${BOX}/statistics`, clerk)).text();
    // The clock is on 4 March 2026: 3 February to 4 March.
    expect(defaults).toContain('value="2026-02-03"');
    expect(defaults).toContain('value="2026-03-04"');
    expect([...defaults.matchAll(/<tr data-period=/g)]).toHaveLength(30);
    expect(defaults).toMatch(/<option value="day" selected="">/);
  });

  it('answers a bad range with a 400 page that says what is wrong, and no table', async () => {
    const cases: [string, string, string][] = [
      ['from=2026-03-05&to=2026-03-01', 'from', '„Von“ darf nicht nach „Bis“ liegen.'],
      ['from=2026-02-30&to=2026-03-01', 'from', 'Bitte geben Sie bei „Von“ ein gültiges Datum an.'],
      ['from=2026-03-01&to=soon', 'to', 'Bitte geben Sie bei „Bis“ ein gültiges Datum an.'],
      ['from=2024-01-01&to=2026-03-01', 'to', 'Der Zeitraum ist zu lang: höchstens 400 Tage.'],
      ['from=2026-03-01&to=2026-03-02&granularity=month', 'granularity', 'Bitte wählen Sie Tag oder Woche.'],
    ];
    for (const [query, field, message] of cases) {
      const res = await page(`/dashboard/boxes/${BOX}/statistics?${query}`, clerk);
      expect(res.status, query).toBe(400);
      const html = await res.text();
      expect(html, query).toContain(`<p class="alert" role="alert" id="stats-problem">${message}</p>`);
      expect(html, query).toMatch(new RegExp(`id="${field}" name="${field}"[^>]*aria-invalid="true" aria-describedby="stats-problem"`));
      expect(html, query).not.toContain('<table');
      expect(html, query).not.toContain('<canvas');
    }
    const english = await (await page(`/dashboard/boxes/${BOX}/statistics?from=2026-03-05&to=2026-03-01&lang=en`, clerk)).text();
    expect(english).toContain('“From” must not be after “To”.');
  });

  it("shows another authority's clerk nothing: 404 for the page and the CSV; signed out: the sign-in page", async () => {
    expect((await page(`/dashboard/boxes/${BOX}/statistics`, otherClerk)).status).toBe(404);
    expect((await page(`/dashboard/boxes/${BOX}/statistics.csv?from=2026-03-01&to=2026-03-05`, otherClerk)).status).toBe(404);
    expect((await page('/dashboard/boxes/no-such-box/statistics', clerk)).status).toBe(404);
    const dresden = await page('/dashboard/boxes/dd-rathaus/statistics', otherClerk);
    expect(dresden.status).toBe(200);
    const signedOut = await request(`/dashboard/boxes/${BOX}/statistics`);
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe('/dashboard/sign-in');
  });
});

describe('the CSV download', () => {
  it('is the REST route\'s CSV of the same range, as an attachment', async () => {
    const res = await page(`/dashboard/boxes/${BOX}/statistics.csv?from=2026-03-01&to=2026-03-04&granularity=day&lang=de`, clerk);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="statistics-${BOX}-2026-03-01-2026-03-04.csv"`);
    const csv = await res.text();
    expect(csv.split('\r\n')).toEqual([
      'period,notices,collected,expired,cancelled,waited,waitedShare,medianMinutesToPickup,smsDelivered,smsUndeliverable,smsFailed,smsDeliveryRate',
      '2026-03-01,0,0,0,0,0,,,0,0,0,',
      '2026-03-02,3,1,0,1,0,0,30,1,0,1,0.5',
      '2026-03-03,0,0,0,0,0,,,0,0,0,',
      '2026-03-04,1,0,0,0,0,0,,0,0,0,',
      '',
    ]);
    const rest = await world.request('GET', `/v1/boxes/${BOX}/statistics?from=2026-03-01&to=2026-03-04&format=csv`, { key: 'test-staff-key-000000001' });
    expect(await rest.text()).toBe(csv);
    const weeks = await (await page(`/dashboard/boxes/${BOX}/statistics.csv?from=2026-03-02&to=2026-03-08&granularity=week`, clerk)).text();
    expect(weeks.split('\r\n')[1]).toBe('2026-W10,4,1,0,1,0,0,30,1,0,1,0.5');
    expect((await page(`/dashboard/boxes/${BOX}/statistics.csv?from=2026-03-05&to=2026-03-01`, clerk)).status).toBe(400);
  });
});

describe('the queue board (bull-board)', () => {
  it('opens for an admin, with its own content security policy and no fonts from the internet', async () => {
    const res = await page('/dashboard/queues', admin);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<base href="/dashboard/queues/" />');
    expect(html).toContain('<title>Warteschlangen</title>');
    expect(html).not.toMatch(/https?:\/\/(?!localhost)/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:/);
    const script = /<script defer src="(static\/js\/main\.[^"]+)"/.exec(html)?.[1] ?? '';
    expect((await page(`/dashboard/queues/${script}`, admin)).status).toBe(200);
    const api = await request('/dashboard/queues/api/queues', { headers: { cookie: admin, accept: 'application/json' } });
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(queues.map((q) => q.name).sort()).toEqual(['case-system-reports', 'maintenance', 'sms']);
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
  });

  it('is linked from an admin’s start page, not from a clerk’s; both see the statistics link of each box', async () => {
    const forAdmin = await (await page('/dashboard', admin)).text();
    const forClerk = await (await page('/dashboard', clerk)).text();
    expect(forAdmin).toContain('href="/dashboard/queues"');
    expect(forClerk).not.toContain('href="/dashboard/queues"');
    expect(forClerk).toContain('/statistics?lang=de');
  });

  it('refuses a clerk with the 403 page, and sends a person signed out to the sign-in page', async () => {
    const res = await page('/dashboard/queues', clerk);
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain('Dafür fehlt Ihnen die Berechtigung.');
    expect(html).toContain('FORBIDDEN');
    expect((await request('/dashboard/queues/api/queues', { headers: { cookie: clerk, accept: 'application/json' } })).status).toBe(403);
    const signedOut = await request('/dashboard/queues');
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe('/dashboard/sign-in');
    expect((await request('/dashboard/queues/static/js/anything.js')).status).toBe(303);
  });

  it('offers no changes: a retry without the CSRF token is refused, and the queues are read-only', async () => {
    const res = await request('/dashboard/queues/api/queues/sms/retry/failed', { method: 'PUT', headers: { cookie: admin, accept: 'application/json', origin: ORIGIN } });
    expect(res.status).toBe(403);
  });
});
