/**
 * The office's dashboard, service and REST parts: finding a pickup by case
 * number or document number (keyed-hash indexes per authority, also after the
 * pickup ended), its story (timeline, SMS, reports, personal data masked),
 * revealing the personal data for a reason, extending a deadline, and the
 * audit trail of every staff action. Real Redis, the real composition root.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/http/auth.js';
import type { ClientIdentity, PickupStory, PickupView } from '../../src/service/types.js';
import { AUTHORITY, BOX, createWorld, KEYS, notice, rejection, testApiKeys, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };
const otherCaseSystem: ClientIdentity = { id: 'case-other', role: 'case-system', authority: 'dresden-abh' };
const staff: ClientIdentity = { id: 'staff-1', role: 'staff', authority: AUTHORITY };
const OTHER_STAFF_KEY = 'test-other-staff-key-0001';
const PERSON = { familyName: 'Abdullahi', givenNames: 'Amina Zoë', dateOfBirth: '1991-04-17' };
const MOBILE = '+4915123456789';

let world: TestWorld;

beforeEach(async () => {
  const keys = JSON.parse(testApiKeys()) as unknown[];
  keys.push({ id: 'staff-dd', role: 'staff', authority: 'dresden-abh', sha256: sha256Hex(OTHER_STAFF_KEY) });
  world = await createWorld({ env: { API_KEYS: JSON.stringify(keys), SMS_REMINDER_WORKING_DAYS: '2' } });
});
afterEach(async () => world.close());

const ns = (): string => world.config.REDIS_KEY_PREFIX;

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

async function search(query: string, key: string = KEYS.staff): Promise<{ status: number; ids: string[] }> {
  const res = await world.request('GET', `/v1/pickups/search?${query}`, { key });
  if (res.status !== 200) return { status: res.status, ids: [] };
  return { status: 200, ids: ((await res.json()) as { pickups: PickupView[] }).pickups.map((p) => p.id) };
}

async function story(id: string): Promise<PickupStory> {
  const res = await world.request('GET', `/v1/pickups/${id}/story`, { key: KEYS.staff });
  expect(res.status).toBe(200);
  return (await res.json()) as PickupStory;
}

async function auditEntries(query = '', key: string = KEYS.staff): Promise<Record<string, unknown>[]> {
  const res = await world.request('GET', `/v1/audit${query}`, { key });
  expect(res.status).toBe(200);
  return ((await res.json()) as { entries: Record<string, unknown>[] }).entries;
}

describe('finding a pickup', () => {
  it('finds every pickup of a case by its case number, ignoring letter case and whitespace', async () => {
    const first = await submit({ caseNumber: 'AZ-2026-77/1' });
    const second = await submit({ caseNumber: 'AZ-2026-77/1' });
    await submit({ caseNumber: 'AZ-2026-77/2' });
    const found = await search(`caseNumber=${encodeURIComponent(' az-2026-77/1 ')}`);
    expect(found.status).toBe(200);
    expect(found.ids.sort()).toEqual([first.id, second.id].sort());
    expect((await search(`caseNumber=${encodeURIComponent('AZ - 2026-77/1')}`)).ids.sort()).toEqual([first.id, second.id].sort());
    expect((await search('caseNumber=AZ-2026-77')).ids).toEqual([]);
  });

  it('finds a pickup by its document number', async () => {
    const p = await submit();
    expect((await search(`documentNumber=${p.serialNumber.toLowerCase()}`)).ids).toEqual([p.id]);
    expect((await search('documentNumber=NOSUCHDOC')).ids).toEqual([]);
  });

  it('still finds a pickup after it ended, until its retention ends with its record', async () => {
    const p = await submit();
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId: p.id }, 'cancelled_by_case_system');
    // The box's scanner index forgets the ended pickup; the search does not.
    expect(await world.dokubox.redis.hlen(`${ns()}:box:${BOX}:serials`)).toBe(0);
    expect((await search(`documentNumber=${p.serialNumber}`)).ids).toEqual([p.id]);
    expect((await search(`caseNumber=${p.caseNumber}`)).ids).toEqual([p.id]);
    // The index keys expire with the pickup's record (AUDIT_RETENTION_DAYS).
    const retention = world.config.AUDIT_RETENTION_DAYS * 86_400;
    const indexKeys = [...(await world.dokubox.redis.keys(`${ns()}:case:*`)), ...(await world.dokubox.redis.keys(`${ns()}:doc:*`))];
    expect(indexKeys).toHaveLength(2);
    for (const key of indexKeys) {
      const ttl = await world.dokubox.redis.ttl(key);
      expect(ttl).toBeGreaterThan(retention - 60);
      expect(ttl).toBeLessThanOrEqual(retention);
    }
    expect(await world.dokubox.redis.ttl(`${ns()}:pickup:${p.id}`)).toBeGreaterThan(retention - 60);
    // Once the record is gone, the search skips the stale entry.
    await world.dokubox.redis.del(`${ns()}:pickup:${p.id}`);
    expect((await search(`caseNumber=${p.caseNumber}`)).ids).toEqual([]);
  });

  it("keeps a case's open pickups in an index without expiry, apart from its ended ones, and finds the open ones first", async () => {
    const ended = await submit({ caseNumber: 'AZ-OPEN-1' });
    const open = await submit({ caseNumber: 'AZ-OPEN-1' });
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId: ended.id }, 'cancelled_by_case_system');
    const [openKey] = await world.dokubox.redis.keys(`${ns()}:open:case:*`);
    expect(await world.dokubox.redis.smembers(openKey!)).toEqual([open.id]);
    expect(await world.dokubox.redis.ttl(openKey!)).toBe(-1);
    const [endedKey] = await world.dokubox.redis.keys(`${ns()}:case:*`);
    expect(await world.dokubox.redis.zrange(endedKey!, "0", "-1")).toEqual([ended.id]);
    expect(await world.dokubox.redis.ttl(endedKey!)).toBeGreaterThan(0);
    expect((await search('caseNumber=AZ-OPEN-1')).ids).toEqual([open.id, ended.id]);
    // The open index is gone with its last open pickup.
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId: open.id }, 'cancelled_by_case_system');
    expect(await world.dokubox.redis.keys(`${ns()}:open:*`)).toEqual([]);
    expect((await search('caseNumber=AZ-OPEN-1')).ids.sort()).toEqual([open.id, ended.id].sort());
  });

  it('finds open pickups that an earlier version indexed (sorted set, score +inf), and keeps them with their record once they end', async () => {
    const p = await submit({ caseNumber: 'AZ-LEGACY-1' });
    // As versions before the open sets wrote it: the open pickup in the sorted set with the score +inf, no TTL.
    const [openKey] = await world.dokubox.redis.keys(`${ns()}:open:case:*`);
    const legacyKey = openKey!.replace(':open:case:', ':case:');
    await world.dokubox.redis.multi().del(openKey!).zadd(legacyKey, '+inf', p.id).exec();
    expect((await search('caseNumber=AZ-LEGACY-1')).ids).toEqual([p.id]);
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId: p.id }, 'cancelled_by_case_system');
    expect(Number(await world.dokubox.redis.zscore(legacyKey, p.id))).toBeLessThan(Infinity);
    expect(await world.dokubox.redis.ttl(legacyKey)).toBeGreaterThan(world.config.AUDIT_RETENTION_DAYS * 86_400 - 60);
    expect((await search('caseNumber=AZ-LEGACY-1')).ids).toEqual([p.id]);
  });

  it("never finds another authority's pickups, and stores no number in clear in the index", async () => {
    const ours = await submit({ caseNumber: 'AZ-SHARED-1' });
    const theirs = await submit({ caseNumber: 'AZ-SHARED-1', authority: 'dresden-abh', boxId: 'dd-rathaus' }, otherCaseSystem);
    expect((await search('caseNumber=AZ-SHARED-1')).ids).toEqual([ours.id]);
    expect((await search('caseNumber=AZ-SHARED-1', OTHER_STAFF_KEY)).ids).toEqual([theirs.id]);
    expect((await search(`documentNumber=${theirs.serialNumber}`)).ids).toEqual([]);
    const keys = await world.dokubox.redis.keys(`${ns()}:*`);
    expect(keys.filter((k) => k.includes('AZ-SHARED') || k.includes(ours.serialNumber))).toEqual([]);
  });

  it('answers 400 unless exactly one of caseNumber and documentNumber is given', async () => {
    for (const query of ['', 'caseNumber=', 'documentNumber=%20', 'caseNumber=AZ-1&documentNumber=T1', `caseNumber=${'A'.repeat(65)}`, `documentNumber=${'D'.repeat(33)}`]) {
      expect((await search(query)).status, query).toBe(400);
    }
  });

  it('is for staff and admins only', async () => {
    expect((await search('caseNumber=AZ-1', KEYS.caseSystem)).status).toBe(403);
    expect((await search('caseNumber=AZ-1', KEYS.kiosk)).status).toBe(403);
    expect((await search('caseNumber=AZ-1', KEYS.admin)).status).toBe(200);
    expect((await world.request('GET', '/v1/pickups/search?caseNumber=AZ-1', { key: null })).status).toBe(401);
  });
});

describe("a pickup's story", () => {
  it('shows every event with type, states, reason, actor and time, the SMS and the personal data masked', async () => {
    const p = await notified();
    await world.dokubox.service.recordSms(p.id, 'sms_delivered', { smsStatus: 'delivered' }, {}, 'ready');
    await world.dokubox.service.issueNewCode(staff, { pickupId: p.id }, 'staff:staff-1');
    await world.dokubox.service.recordSms(p.id, 'code_sent', {}, {}, 'code');
    const s = await story(p.id);
    expect(s.timeline.map((e) => [e.seq, e.type, e.from, e.to, e.reason, e.actor])).toEqual([
      [1, 'pickup.created', null, 'reserved', 'notice_received', 'case-system:case-1'],
      [2, 'pickup.transitioned', 'reserved', 'loaded', 'staff_loaded', 'staff:staff-1'],
      [3, 'pickup.transitioned', 'loaded', 'notified', 'sms_accepted', 'system:sms'],
      [4, 'pickup.sms', 'notified', 'notified', 'sms_delivered', 'system:sms'],
      [5, 'pickup.code', 'notified', 'notified', 'code_reissued', 'staff:staff-1'],
      [6, 'pickup.sms', 'notified', 'notified', 'code_sent', 'system:sms'],
    ]);
    expect(s.timeline.every((e) => typeof e.at === 'string')).toBe(true);
    expect(s.sms.map((m) => [m.seq, m.kind, m.status])).toEqual([
      [3, 'ready', 'accepted'],
      [4, 'ready', 'delivered'],
      [6, 'code', 'sent'],
    ]);
    expect(s.person).toEqual({ name: 'A. A.', mobile: '+49 151 ****6789', dateOfBirth: '1991' });
    expect(s.pickup).toMatchObject({ id: p.id, state: 'notified', caseNumber: p.caseNumber });
    const text = JSON.stringify(s);
    for (const secret of [PERSON.familyName, 'Amina', MOBILE, PERSON.dateOfBirth, p.serialNumber]) expect(text).not.toContain(secret);
  });

  it('shows each report to the case system as delivered, dead (with its error) or pending', async () => {
    const p = await notified();
    await world.dokubox.store.markReported(p.id, 1);
    const history = await world.dokubox.store.history(p.id);
    const dead = { pickupId: p.id, report: { seq: 2, status: 'loaded', eventId: `${p.id}:2`, authority: AUTHORITY, boxId: BOX }, error: 'HTTP 500 from the case system', attempts: 10, failedAt: history[1]!.at };
    await world.dokubox.redis.hset(`${ns()}:case-reports:dead`, p.id, JSON.stringify(dead));
    const s = await story(p.id);
    expect(s.reports).toEqual([
      { seq: 1, status: 'reserved', reason: 'notice_received', occurredAt: history[0]!.at, delivery: 'delivered' },
      { seq: 2, status: 'loaded', reason: 'staff_loaded', occurredAt: history[1]!.at, delivery: 'dead', error: 'HTTP 500 from the case system' },
      { seq: 3, status: 'notified', reason: 'sms_accepted', occurredAt: history[2]!.at, delivery: 'pending' },
    ]);
  });

  it('lists no report for SMS of new codes or audit events, and no person once the personal data is deleted', async () => {
    const p = await notified();
    await world.request('POST', `/v1/pickups/${p.id}/reveal`, { key: KEYS.staff, body: { reason: 'applicant at the counter' } });
    await world.dokubox.service.issueNewCode(staff, { pickupId: p.id }, 'staff:staff-1');
    await world.request('POST', `/v1/pickups/${p.id}/cancel`, { key: KEYS.staff });
    const s = await story(p.id);
    expect(s.reports.map((r) => r.status)).toEqual(['reserved', 'loaded', 'notified', 'cancelled']);
    expect(s.timeline.map((e) => e.type)).toContain('pickup.audit');
    expect(s.person).toBeNull();
    // The case system's view of the pickup has no audit events.
    const view = (await (await world.request('GET', `/v1/pickups/${p.id}`, { key: KEYS.caseSystem })).json()) as PickupView;
    expect(view.history.map((e) => e.reason)).not.toContain('personal_data_revealed');
  });

  it("is for staff of the pickup's authority only", async () => {
    const p = await submit();
    expect((await world.request('GET', `/v1/pickups/${p.id}/story`, { key: OTHER_STAFF_KEY })).status).toBe(404);
    expect((await world.request('GET', `/v1/pickups/${p.id}/story`, { key: KEYS.caseSystem })).status).toBe(403);
    expect((await world.request('GET', '/v1/pickups/no-such-pickup/story', { key: KEYS.staff })).status).toBe(404);
  });
});

describe('revealing the personal data', () => {
  it('returns the full name, mobile number and date of birth, and audits it in the stream and the history', async () => {
    const p = await submit();
    const res = await world.request('POST', `/v1/pickups/${p.id}/reveal`, { key: KEYS.staff, body: { reason: 'applicant at the counter, ID checked' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ pickupId: p.id, familyName: PERSON.familyName, givenNames: PERSON.givenNames, dateOfBirth: PERSON.dateOfBirth, mobile: MOBILE });
    const [entry] = await auditEntries(`?pickupId=${p.id}`);
    expect(entry).toMatchObject({ actor: 'staff:staff-1', authority: AUTHORITY, action: 'personal_data_revealed', pickupId: p.id, boxId: BOX, reason: 'applicant at the counter, ID checked' });
    const last = (await story(p.id)).timeline.at(-1);
    expect(last).toMatchObject({ type: 'pickup.audit', reason: 'personal_data_revealed', actor: 'staff:staff-1', from: 'reserved', to: 'reserved' });
  });

  it('requires a reason of 5 to 200 characters, and reveals nothing without one', async () => {
    const p = await submit();
    expect((await world.request('POST', `/v1/pickups/${p.id}/reveal`, { key: KEYS.staff })).status).toBe(415);
    for (const body of [{}, { reason: '' }, { reason: '   why   ' }, { reason: 'x'.repeat(201) }, { reason: 42 }, { reason: 'a good reason', extra: true }]) {
      const res = await world.request('POST', `/v1/pickups/${p.id}/reveal`, { key: KEYS.staff, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(await auditEntries()).toEqual([]);
  });

  it('answers 409 once the personal data is deleted, 404 for unknown and foreign pickups, 403 for other roles', async () => {
    const p = await submit();
    const body = { reason: 'applicant at the counter' };
    expect((await world.request('POST', `/v1/pickups/${p.id}/reveal`, { key: OTHER_STAFF_KEY, body })).status).toBe(404);
    expect((await world.request('POST', '/v1/pickups/no-such-pickup/reveal', { key: KEYS.staff, body })).status).toBe(404);
    expect((await world.request('POST', `/v1/pickups/${p.id}/reveal`, { key: KEYS.caseSystem, body })).status).toBe(403);
    expect((await world.request('POST', `/v1/pickups/${p.id}/reveal`, { key: KEYS.kiosk, body })).status).toBe(403);
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId: p.id }, 'cancelled_by_case_system');
    const gone = await world.request('POST', `/v1/pickups/${p.id}/reveal`, { key: KEYS.staff, body });
    expect(gone.status).toBe(409);
    expect(await auditEntries()).toEqual([]);
  });
});

describe('extending the deadline', () => {
  it('moves the deadline and the expiry by working days of the box calendar, and audits it', async () => {
    const p = await notified();
    const before = (await world.dokubox.store.get(p.id))!.deadline!;
    const res = await world.request('POST', `/v1/pickups/${p.id}/deadline`, { key: KEYS.staff, body: { workingDays: 3, reason: 'applicant abroad until next week' } });
    expect(res.status).toBe(200);
    const after = Date.parse(((await res.json()) as PickupView).deadline!);
    // 2026-03-02 (Monday) + 7 working days = Wednesday 2026-03-11; + 3 = Monday 2026-03-16, both at closing time.
    expect(new Date(before).toISOString().slice(0, 10)).toBe('2026-03-11');
    expect(new Date(after).toISOString().slice(0, 10)).toBe('2026-03-16');
    expect(Number(await world.dokubox.redis.zscore(`${ns()}:deadlines`, p.id))).toBe(after);
    world.clock.set(before + 60_000);
    expect(await world.dokubox.service.expireDue()).toBe(0);
    world.clock.set(after + 60_000);
    expect(await world.dokubox.service.expireDue()).toBe(1);
    const entries = await auditEntries(`?pickupId=${p.id}`);
    expect(entries[0]).toMatchObject({ action: 'deadline_extended', actor: 'staff:staff-1', reason: 'applicant abroad until next week', boxId: BOX });
    expect(entries[0]?.detail).toContain(new Date(after).toISOString());
    const events = (await world.dokubox.store.history(p.id)).map((e) => [e.type, e.reason]);
    expect(events).toContainEqual(['pickup.audit', 'deadline_extended']);
  });

  it('schedules the reminder anew before the new deadline', async () => {
    const p = await notified();
    await world.dokubox.events.drain();
    const remindedAt = Number(await world.dokubox.redis.zscore(`${ns()}:reminders`, p.id));
    expect(remindedAt).toBeGreaterThan(0);
    await world.dokubox.service.extendDeadline(staff, p.id, 5, 'applicant in hospital');
    await world.dokubox.events.drain();
    const deadline = (await world.dokubox.store.get(p.id))!.deadline!;
    const moved = Number(await world.dokubox.redis.zscore(`${ns()}:reminders`, p.id));
    expect(moved).toBeGreaterThan(remindedAt);
    expect(moved).toBeLessThan(deadline);
  });

  it('answers 400 for bad input, 409 unless notified, 404 for unknown pickups', async () => {
    const p = await notified();
    expect((await world.request('POST', `/v1/pickups/${p.id}/deadline`, { key: KEYS.staff })).status).toBe(415);
    for (const body of [{}, { workingDays: 3 }, { reason: 'applicant abroad' }, { workingDays: 0, reason: 'applicant abroad' }, { workingDays: 11, reason: 'applicant abroad' }, { workingDays: 2.5, reason: 'applicant abroad' }, { workingDays: '3', reason: 'applicant abroad' }, { workingDays: 3, reason: 'abc' }]) {
      const res = await world.request('POST', `/v1/pickups/${p.id}/deadline`, { key: KEYS.staff, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const reserved = await submit();
    expect((await world.request('POST', `/v1/pickups/${reserved.id}/deadline`, { key: KEYS.staff, body: { workingDays: 3, reason: 'applicant abroad' } })).status).toBe(409);
    expect((await world.request('POST', '/v1/pickups/no-such-pickup/deadline', { key: KEYS.staff, body: { workingDays: 3, reason: 'applicant abroad' } })).status).toBe(404);
    expect((await world.request('POST', `/v1/pickups/${p.id}/deadline`, { key: OTHER_STAFF_KEY, body: { workingDays: 3, reason: 'applicant abroad' } })).status).toBe(404);
    expect((await rejection(world.dokubox.service.extendDeadline(staff, p.id, 0, 'applicant abroad'))).code).toBe('VALIDATION_FAILED');
    expect(await auditEntries()).toEqual([]);
  });
});

describe('the audit trail', () => {
  it('records cancellations by staff, new codes, compartments marked defective and repaired, and replays of dead letters', async () => {
    const cancelled = await submit();
    await world.request('POST', `/v1/pickups/${cancelled.id}/cancel`, { key: KEYS.staff });
    const coded = await notified();
    expect((await world.request('POST', `/v1/pickups/${coded.id}/code`, { key: KEYS.staff })).status).toBe(200);
    expect((await world.request('POST', `/v1/boxes/${BOX}/compartments/012/defective`, { key: KEYS.admin })).status).toBe(204);
    expect((await world.request('POST', `/v1/boxes/${BOX}/compartments/012/repaired`, { key: KEYS.staff })).status).toBe(204);
    const dead = { pickupId: coded.id, report: { seq: 2, status: 'loaded', eventId: `${coded.id}:2`, authority: AUTHORITY, boxId: BOX }, error: 'HTTP 500', attempts: 10, failedAt: '2026-03-02T09:00:00.000Z' };
    await world.dokubox.redis.hset(`${ns()}:case-reports:dead`, coded.id, JSON.stringify(dead));
    expect((await world.request('POST', `/v1/case-reports/dead-letters/${coded.id}/replay`, { key: KEYS.staff })).status).toBe(200);
    // A cancellation by the case system is no staff action.
    const byCaseSystem = await submit();
    await world.request('POST', `/v1/pickups/${byCaseSystem.id}/cancel`, { key: KEYS.caseSystem });

    const entries = await auditEntries();
    expect(entries.map((e) => [e.action, e.actor, e.pickupId ?? null, e.compartment ?? null])).toEqual([
      ['case_report_replayed', 'staff:staff-1', coded.id, null],
      ['compartment_repaired', 'staff:staff-1', null, '012'],
      ['compartment_defective', 'admin:admin-1', null, '012'],
      ['code_issued', 'staff:staff-1', coded.id, null],
      ['pickup_cancelled', 'staff:staff-1', cancelled.id, null],
    ]);
    expect(entries.every((e) => e.authority === AUTHORITY && typeof e.at === 'string' && typeof e.id === 'string')).toBe(true);
    // The replay leaves a pickup.audit event (the history has nothing else of it); cancel and new code have theirs already.
    expect((await world.dokubox.store.history(coded.id)).filter((e) => e.type === 'pickup.audit').map((e) => e.reason)).toEqual(['case_report_replayed']);
    expect((await world.dokubox.store.history(cancelled.id)).filter((e) => e.type === 'pickup.audit')).toEqual([]);
  });

  it('filters by pickup and box, limits, and shows staff only their own authority', async () => {
    const a = await submit();
    const b = await submit();
    for (const p of [a, b, a]) await world.request('POST', `/v1/pickups/${p.id}/reveal`, { key: KEYS.staff, body: { reason: 'applicant at the counter' } });
    expect(await auditEntries(`?pickupId=${a.id}`)).toHaveLength(2);
    expect(await auditEntries(`?boxId=${BOX}&limit=1`)).toHaveLength(1);
    expect(await auditEntries('?boxId=small')).toEqual([]);
    expect(await auditEntries('', KEYS.admin)).toHaveLength(3);
    expect(await auditEntries('', OTHER_STAFF_KEY)).toEqual([]);
  });

  it('answers 400 for a bad limit or pickup id, 422 for a box of another authority, 403 for other roles', async () => {
    for (const query of ['?limit=0', '?limit=501', '?limit=ten', '?limit=2.5', '?pickupId=', `?pickupId=${'p'.repeat(65)}`]) {
      expect((await world.request('GET', `/v1/audit${query}`, { key: KEYS.staff })).status, query).toBe(400);
    }
    expect((await world.request('GET', '/v1/audit?boxId=dd-rathaus', { key: KEYS.staff })).status).toBe(422);
    expect((await world.request('GET', '/v1/audit', { key: KEYS.caseSystem })).status).toBe(403);
    expect((await world.request('GET', '/v1/audit', { key: KEYS.monitoring })).status).toBe(403);
    expect((await world.request('GET', '/v1/audit', { key: null })).status).toBe(401);
  });

  it('holds no personal data, and neither do the logs', async () => {
    const p = await notified();
    await world.request('GET', `/v1/pickups/search?documentNumber=${p.serialNumber}`, { key: KEYS.staff });
    await world.request('GET', `/v1/pickups/search?caseNumber=${p.caseNumber}`, { key: KEYS.staff });
    await world.request('GET', `/v1/pickups/${p.id}/story`, { key: KEYS.staff });
    await world.request('POST', `/v1/pickups/${p.id}/reveal`, { key: KEYS.staff, body: { reason: 'applicant at the counter' } });
    await world.request('POST', `/v1/pickups/${p.id}/deadline`, { key: KEYS.staff, body: { workingDays: 2, reason: 'applicant abroad' } });
    await world.request('POST', `/v1/pickups/${p.id}/code`, { key: KEYS.staff });
    await world.request('POST', `/v1/pickups/${p.id}/cancel`, { key: KEYS.staff });
    const stream = JSON.stringify(await world.dokubox.redis.xrange(`${ns()}:audit`, '-', '+'));
    expect(stream).toContain('personal_data_revealed');
    const history = JSON.stringify(await world.dokubox.redis.lrange(`${ns()}:history:${p.id}`, 0, -1));
    const logs = world.logs.join('');
    for (const text of [stream, history, logs]) {
      for (const secret of [PERSON.familyName, 'Amina', MOBILE, '5123456789', PERSON.dateOfBirth, p.serialNumber, p.caseNumber]) expect(text).not.toContain(secret);
    }
  });
});
