/**
 * The dashboard's pickup pages over HTTP (src/web/dashboard/pickup-routes.ts):
 * a signed-in clerk finds a pickup by case number and document number, reads
 * its story with the personal data masked, reveals it for a reason, and acts
 * on it; every action is audited with the person as the actor. A clerk may
 * not replay a dead-letter report (admin only), a form without the CSRF
 * token is refused, another authority's pickup is a 404 page. Real Redis,
 * the real composition root (no locker connected: remote opening explains
 * that).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientIdentity } from '../../src/service/types.js';
import type { StoredAuditEntry } from '../../src/store/audit.js';
import { AUTHORITY, BOX, createWorld, notice, type TestWorld } from '../support/harness.js';

const PW = 'a long password for tests';
const ORIGIN = 'http://localhost';
const FORM = { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' };
const PERSON = { familyName: 'Abdullahi', givenNames: 'Amina Zoë', dateOfBirth: '1991-04-17' };
const MOBILE = '+4915123456789';
const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };
const otherCaseSystem: ClientIdentity = { id: 'case-other', role: 'case-system', authority: 'dresden-abh' };

let world: TestWorld;
type Session = { cookie: string; csrf: string };
let clerk: Session;
let admin: Session;
let foreign: Session;

const request = (path: string, init: RequestInit = {}): Promise<Response> => Promise.resolve(world.dokubox.app.request(path, init));
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

async function session(username: string): Promise<Session> {
  const res = await request('/dashboard/sign-in', { method: 'POST', headers: FORM, body: form({ username, password: PW }) });
  expect(res.status).toBe(303);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const page = await (await request('/dashboard', { headers: { cookie } })).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? '';
  expect(csrf).not.toBe('');
  return { cookie, csrf };
}

const get = (s: Session, path: string) => request(path, { headers: { cookie: s.cookie } });
const post = (s: Session, path: string, fields: Record<string, string>, withToken = true) =>
  request(path, { method: 'POST', headers: { ...FORM, cookie: s.cookie }, body: form(withToken ? { csrf: s.csrf, ...fields } : fields) });

async function submit(overrides: Parameters<typeof notice>[0] = {}, client: ClientIdentity = caseSystem): Promise<{ id: string; serialNumber: string; caseNumber: string }> {
  const input = notice({ person: PERSON, mobile: MOBILE, ...overrides });
  const { pickup } = await world.dokubox.service.submitNotice(client, input);
  return { id: pickup.id, serialNumber: input.documents[0]?.serialNumber ?? '', caseNumber: input.caseNumber };
}

async function notified(overrides: Parameters<typeof notice>[0] = {}): Promise<{ id: string; serialNumber: string; caseNumber: string }> {
  const p = await submit(overrides);
  await world.dokubox.service.markLoaded(p.id, 'staff:staff-1');
  await world.dokubox.service.markNotified(p.id, 'system:sms');
  return p;
}

const auditOf = (pickupId: string): Promise<StoredAuditEntry[]> => world.dokubox.service.auditTrail(caseSystem, { pickupId, limit: 100 });

beforeAll(async () => {
  world = await createWorld();
  const { accounts } = world.dokubox.dashboard;
  const now = world.clock.now();
  await accounts.create({ username: 'md.clerk', authority: AUTHORITY, role: 'clerk', password: PW, name: 'K. Meyer' }, now);
  await accounts.create({ username: 'md.admin', authority: AUTHORITY, role: 'admin', password: PW, name: 'M. Admin' }, now);
  await accounts.create({ username: 'dd.clerk', authority: 'dresden-abh', role: 'clerk', password: PW }, now);
  clerk = await session('md.clerk');
  admin = await session('md.admin');
  foreign = await session('dd.clerk');
});

afterAll(async () => {
  await world?.close();
});

describe('finding a pickup', () => {
  it('shows the search form with labelled fields, in German and in English', async () => {
    const res = await get(clerk, '/dashboard/pickups');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('<label for="caseNumber">Aktenzeichen</label>');
    expect(html).toContain('<label for="documentNumber">Dokumentennummer</label>');
    expect(await (await get(clerk, '/dashboard/pickups?lang=en')).text()).toContain('<label for="caseNumber">Case number</label>');
    // The home page links to it.
    expect(await (await get(clerk, '/dashboard')).text()).toContain('href="/dashboard/pickups?lang=de"');
  });

  it('finds pickups by case number and by document number, of the person\u2019s authority only', async () => {
    const a = await submit({ caseNumber: 'AZ-DASH-1' });
    const b = await submit({ caseNumber: 'AZ-DASH-1' });
    await submit({ caseNumber: 'AZ-DASH-1', authority: 'dresden-abh', boxId: 'dd-rathaus' }, otherCaseSystem);
    const byCase = await (await get(clerk, `/dashboard/pickups?caseNumber=${encodeURIComponent(' az-dash-1 ')}`)).text();
    expect(byCase).toContain('2 Abholungen gefunden.');
    expect(byCase).toContain(`href="/dashboard/pickups/${a.id}?lang=de"`);
    expect(byCase).toContain(`href="/dashboard/pickups/${b.id}?lang=de"`);
    expect(byCase).toContain('reserviert');
    expect(byCase).toContain('<td>Dokumentenausgabebox Foyer</td>');

    const byDocument = await (await get(clerk, `/dashboard/pickups?documentNumber=${a.serialNumber.toLowerCase()}&lang=en`)).text();
    expect(byDocument).toContain('1 pickup found.');
    expect(byDocument).toContain(`href="/dashboard/pickups/${a.id}?lang=en"`);
    expect(byDocument).not.toContain(b.id);

    expect(await (await get(clerk, '/dashboard/pickups?caseNumber=NOPE-0')).text()).toContain('Keine Abholung gefunden.');
    // The other authority's clerk finds only their own.
    expect(await (await get(foreign, '/dashboard/pickups?caseNumber=AZ-DASH-1')).text()).toContain('1 Abholung gefunden.');
  });

  it('asks for exactly one field', async () => {
    const res = await get(clerk, '/dashboard/pickups?caseNumber=A&documentNumber=B');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Füllen Sie nur ein Feld aus');
  });
});

describe("a pickup's page", () => {
  it('shows the timeline, SMS, reports and the personal data masked', async () => {
    const p = await notified();
    const res = await get(clerk, `/dashboard/pickups/${p.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain(`Abholung ${p.caseNumber}`);
    expect(html).toContain('data-timeline');
    expect(html).toContain('staff_loaded');
    expect(html).toContain('beladen → benachrichtigt');
    expect(html).toContain('data-reports');
    expect(html).toContain('A. A.');
    expect(html).toContain('+49 151 ****6789');
    expect(html).toContain('<dd>1991</dd>');
    expect(html).not.toContain('Abdullahi');
    expect(html).not.toContain(MOBILE);
    expect(html).not.toContain('1991-04-17');
    // The times are the box's (Europe/Berlin): 09:00 UTC is 10:00.
    expect(html).toContain('10:00');
    expect(await (await get(clerk, `/dashboard/pickups/${p.id}?lang=en`)).text()).toContain('Personal data');
  });

  it('reveals the personal data only for a reason, audited, never cached', async () => {
    const p = await notified();
    const none = await post(clerk, `/dashboard/pickups/${p.id}/reveal`, { reason: 'abc' });
    expect(none.status).toBe(400);
    const refused = await none.text();
    expect(refused).toContain('Bitte geben Sie einen Grund mit 5 bis 200 Zeichen an.');
    expect(refused).not.toContain('Abdullahi');
    expect(await auditOf(p.id)).toEqual([]);

    const res = await post(clerk, `/dashboard/pickups/${p.id}/reveal`, { reason: 'applicant at the counter, ID checked' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('Amina Zoë Abdullahi');
    expect(html).toContain(MOBILE);
    expect(html).toContain('1991-04-17');
    const [entry] = await auditOf(p.id);
    expect(entry).toMatchObject({ action: 'personal_data_revealed', actor: 'clerk:md.clerk', reason: 'applicant at the counter, ID checked', pickupId: p.id });
    // The next view is masked again, and shows the audit entry.
    const after = await (await get(clerk, `/dashboard/pickups/${p.id}`)).text();
    expect(after).not.toContain('Abdullahi');
    expect(after).toContain('data-action="personal_data_revealed"');
    expect(after).toContain('clerk:md.clerk');
  });
});

describe('actions', () => {
  it('issues a new code, extends the deadline, marks the compartment defective and repaired, cancels: each audited with the person', async () => {
    const p = await notified();
    const page = `/dashboard/pickups/${p.id}`;

    const code = await post(clerk, `${page}/code`, { reason: 'SMS lost by the applicant' });
    expect(code.status).toBe(303);
    expect(code.headers.get('location')).toBe(`${page}?lang=de&done=code`);
    expect(await (await get(clerk, code.headers.get('location') ?? '')).text()).toContain('Ein neuer Code wurde ausgegeben');

    const before = (await world.dokubox.store.get(p.id))?.deadline ?? 0;
    const extend = await post(clerk, `${page}/deadline?lang=en`, { workingDays: '3', reason: 'applicant abroad until next week' });
    expect(extend.status).toBe(303);
    expect(extend.headers.get('location')).toBe(`${page}?lang=en&done=extended`);
    expect((await world.dokubox.store.get(p.id))?.deadline ?? 0).toBeGreaterThan(before);
    expect((await post(clerk, `${page}/deadline`, { workingDays: '11', reason: 'applicant abroad' })).status).toBe(400);

    expect((await post(clerk, `${page}/defective`, { reason: 'door jams when closing' })).status).toBe(303);
    expect(await (await get(clerk, page)).text()).toContain('als repariert markieren');
    expect((await post(clerk, `${page}/repaired`, { reason: 'technician fixed the hinge' })).status).toBe(303);

    // No locker is connected in this world: remote opening says so, and nothing is recorded.
    const open = await post(clerk, `${page}/open`, { reason: 'document must go back to the counter' });
    expect(open.status).toBe(409);
    expect(await open.text()).toContain('keine Schließanlage angeschlossen');

    const cancel = await post(admin, `${page}/cancel`, { reason: 'applicant collected it at the counter' });
    expect(cancel.status).toBe(303);
    expect((await world.dokubox.store.get(p.id))?.state).toBe('cancelled');

    const entries = (await auditOf(p.id)).reverse().map((e) => [e.action, e.actor, e.reason]);
    expect(entries).toEqual([
      ['code_issued', 'clerk:md.clerk', 'SMS lost by the applicant'],
      ['deadline_extended', 'clerk:md.clerk', 'applicant abroad until next week'],
      ['compartment_defective', 'clerk:md.clerk', 'door jams when closing'],
      ['compartment_repaired', 'clerk:md.clerk', 'technician fixed the hinge'],
      ['pickup_cancelled', 'admin:md.admin', 'applicant collected it at the counter'],
    ]);
    const history = await world.dokubox.store.history(p.id);
    expect(history.find((e) => e.type === 'pickup.code')?.actor).toBe('clerk:md.clerk');
    expect(history.find((e) => e.to === 'cancelled')?.actor).toBe('admin:md.admin');
    const html = await (await get(clerk, page)).text();
    for (const action of ['code_issued', 'deadline_extended', 'compartment_defective', 'compartment_repaired', 'pickup_cancelled']) expect(html).toContain(`data-action="${action}"`);
  });

  it('requires a reason for every action', async () => {
    const p = await notified();
    for (const action of ['code', 'deadline', 'cancel', 'open', 'defective', 'repaired', 'reassign']) {
      const res = await post(clerk, `/dashboard/pickups/${p.id}/${action}`, { workingDays: '2' });
      expect(res.status, action).toBe(400);
      expect(await res.text(), action).toContain('Bitte geben Sie einen Grund mit 5 bis 200 Zeichen an.');
    }
    expect((await post(clerk, `/dashboard/pickups/${p.id}/code`, { reason: 'x'.repeat(201) })).status).toBe(400);
    expect(await auditOf(p.id)).toEqual([]);
  });

  it('shows the limit of new codes', async () => {
    const p = await notified();
    for (let i = 0; i < 5; i += 1) expect((await post(clerk, `/dashboard/pickups/${p.id}/code`, { reason: `new code number ${i + 1}` })).status).toBe(303);
    const sixth = await post(clerk, `/dashboard/pickups/${p.id}/code?lang=en`, { reason: 'one more new code' });
    expect(sixth.status).toBe(409);
    const html = await sixth.text();
    expect(html).toContain('This pickup has had 5 new codes, the most allowed.');
    expect(html).toContain('New codes issued: 5 of at most 5.');
  });

  it('offers a new code for a loaded pickup only once the SMS with its code failed', async () => {
    const p = await submit();
    await world.dokubox.service.markLoaded(p.id, 'staff:staff-1');
    expect(await (await get(clerk, `/dashboard/pickups/${p.id}`)).text()).not.toContain('id="f-code"');
    // What the SMS notifications record when the ready SMS times out.
    await world.dokubox.service.recordSms(p.id, 'sms_failed', { smsStatus: 'uncertain', smsFailure: 'ready:uncertain' }, {}, 'ready');
    expect(await (await get(clerk, `/dashboard/pickups/${p.id}`)).text()).toContain('id="f-code"');
    expect((await post(clerk, `/dashboard/pickups/${p.id}/code`, { reason: 'the SMS did not arrive' })).status).toBe(303);
    expect((await world.dokubox.store.history(p.id)).at(-1)).toMatchObject({ reason: 'code_reissued', from: 'loaded', to: 'loaded' });
  });

  it('offers another compartment only for a fault before the documents went in, and the pickup gets one', async () => {
    const p = await submit();
    const failed = (await world.dokubox.store.get(p.id))?.compartment ?? '';
    const page = `/dashboard/pickups/${p.id}`;
    expect(await (await get(clerk, page)).text()).not.toContain('id="f-reassign"');
    await world.dokubox.service.markFault(p.id, 'door_did_not_open', 'locker:gw1');
    const offered = await (await get(clerk, `${page}?lang=en`)).text();
    expect(offered).toContain('id="f-reassign"');
    expect(offered).toContain(`Compartment ${failed} failed before the documents went in.`);
    expect((await post(clerk, `${page}/reassign`, {})).status).toBe(400);
    const done = await post(clerk, `${page}/reassign?lang=en`, { reason: 'door did not open at loading' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`${page}?lang=en&done=reassigned`);
    expect(await (await get(clerk, done.headers.get('location') ?? '')).text()).toContain('The pickup has another compartment, or waits for one');
    const after = await world.dokubox.store.get(p.id);
    expect(after?.state).toBe('reserved');
    expect(after?.compartment).not.toBe(failed);
    expect((await auditOf(p.id)).map((e) => [e.action, e.actor, e.compartment, e.reason])).toEqual([['pickup_reassigned', 'clerk:md.clerk', failed, 'door did not open at loading']]);

    // With the documents inside (a fault after loading) there is no such form, and a forged post is refused with the reason.
    const loaded = await submit();
    await world.dokubox.service.markLoaded(loaded.id, 'staff:staff-1');
    await world.dokubox.service.markFault(loaded.id, 'item_missing_after_loading', 'locker:gw1');
    expect(await (await get(clerk, `/dashboard/pickups/${loaded.id}`)).text()).not.toContain('id="f-reassign"');
    const refused = await post(clerk, `/dashboard/pickups/${loaded.id}/reassign?lang=en`, { reason: 'try another compartment' });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('cancel the pickup, take them out and hand them over at the counter');
  });

  it('lets an admin replay a dead-letter report, and refuses a clerk (403)', async () => {
    const p = await notified();
    const history = await world.dokubox.store.history(p.id);
    const dead = { pickupId: p.id, report: { seq: 2, status: 'loaded', eventId: `${p.id}:2`, authority: AUTHORITY, boxId: BOX }, error: 'HTTP 500 from the case system', attempts: 10, failedAt: history[1]?.at };
    await world.dokubox.redis.hset(`${world.config.REDIS_KEY_PREFIX}:case-reports:dead`, p.id, JSON.stringify(dead));
    const page = await (await get(clerk, `/dashboard/pickups/${p.id}`)).text();
    expect(page).toContain('unzustellbar (Dead Letter)');
    expect(page).toContain('HTTP 500 from the case system');
    expect(page).toContain('nur die Administration kann sie erneut senden');

    const denied = await post(clerk, `/dashboard/pickups/${p.id}/replay`, { reason: 'case system is back' });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('Dafür fehlt Ihnen die Berechtigung.');
    expect(await auditOf(p.id)).toEqual([]);

    expect(await (await get(admin, `/dashboard/pickups/${p.id}`)).text()).toContain('id="f-replay"');
    const replayed = await post(admin, `/dashboard/pickups/${p.id}/replay`, { reason: 'case system is back' });
    expect(replayed.status).toBe(303);
    expect(replayed.headers.get('location')).toBe(`/dashboard/pickups/${p.id}?lang=de&done=replayed`);
    expect(await auditOf(p.id)).toMatchObject([{ action: 'case_report_replayed', actor: 'admin:md.admin', reason: 'case system is back' }]);
  });

  it('refuses a form without the CSRF token (403) and records nothing', async () => {
    const p = await notified();
    for (const action of ['reveal', 'code', 'cancel']) {
      const res = await post(clerk, `/dashboard/pickups/${p.id}/${action}`, { reason: 'a perfectly good reason' }, false);
      expect(res.status, action).toBe(403);
      expect(await res.text()).toContain('CSRF_REFUSED');
    }
    expect(await auditOf(p.id)).toEqual([]);
    expect((await world.dokubox.store.get(p.id))?.state).toBe('notified');
  });

  it("shows a 404 page for another authority's pickup, for reading and for acting", async () => {
    const p = await notified();
    const page = await get(foreign, `/dashboard/pickups/${p.id}`);
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Diese Abholung gibt es für Ihre Behörde nicht.');
    expect((await post(foreign, `/dashboard/pickups/${p.id}/reveal`, { reason: 'just curious here' })).status).toBe(404);
    expect((await post(foreign, `/dashboard/pickups/${p.id}/cancel`, { reason: 'just curious here' })).status).toBe(404);
    expect((await get(clerk, '/dashboard/pickups/no-such-pickup')).status).toBe(404);
    expect(await auditOf(p.id)).toEqual([]);
  });

  it('sends people who are not signed in to the sign-in page', async () => {
    const res = await request('/dashboard/pickups?lang=en');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard/sign-in?lang=en');
  });
});
