/**
 * Staff issue a new pickup code (POST /v1/pickups/{id}/code): the old code
 * dies, the new one verifies, the block is lifted, and the applicant gets one
 * SMS per new code; a loaded pickup whose SMS with the code failed gets one
 * too, and
 * its SMS makes the pickup notified; through the real composition root, Redis, the event
 * stream, the SMS queue (memory gateway) and the case system's callback
 * server.
 */
import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySmsGateway } from '../../adapters/sms/memory/index.js';
import { SmsSendError } from '../../adapters/sms/types.js';
import { reportFor } from '../../src/case-system/reports.js';
import { generateCode, hashCode } from '../../src/core/code.js';
import { MAX_NEW_CODES } from '../../src/service/pickup-service.js';
import type { ClientIdentity } from '../../src/service/types.js';
import { startCallbackServer, type CallbackServer } from '../../simulator/case-system/callback-server.js';
import { AUTHORITY, BOX, createWorld, KEYS, notice, rejection, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };
const staff: ClientIdentity = { id: 'staff-1', role: 'staff', authority: AUTHORITY };
const kiosk: ClientIdentity = { id: 'kiosk-1', role: 'kiosk', authority: AUTHORITY };
const DATE_OF_BIRTH = '1991-04-17';

let world: TestWorld;
let gateway: MemorySmsGateway;
let callback: CallbackServer;
let worker: Worker;
/** Codes the service draws next (then random ones). */
let draws: string[];

beforeEach(async () => {
  gateway = new MemorySmsGateway();
  callback = await startCallbackServer();
  draws = [];
  world = await createWorld({
    start: '2026-03-02T09:00:00Z',
    smsGateway: gateway,
    randomCode: () => draws.shift() ?? generateCode(),
    env: { SMS_QUIET_HOURS: 'off', CASE_SYSTEM_CALLBACKS: JSON.stringify({ [AUTHORITY]: { url: callback.url } }), CASE_SYSTEM_REPORT_BACKOFF_MS: '10' },
  });
  worker = world.dokubox.sms.start();
  world.dokubox.reports.start();
});
afterEach(async () => {
  await world.close();
  await callback.close();
});

/** Lets the event subscribers queue their jobs, then waits until `count` SMS jobs ended (sent, skipped or failed). */
async function smsJobsDone(count = 1, on: Worker = worker): Promise<void> {
  let left = count;
  const done = new Promise<void>((resolve) => {
    const finish = () => {
      left -= 1;
      if (left > 0) return;
      on.off('completed', finish);
      on.off('failed', finish);
      resolve();
    };
    on.on('completed', finish);
    on.on('failed', finish);
  });
  await world.dokubox.events.drain();
  await done;
}

/** A pickup whose ready SMS went out (state notified). */
async function notifiedPickup(): Promise<string> {
  const { service } = world.dokubox;
  const { pickup } = await service.submitNotice(caseSystem, notice({ language: 'de', mobile: '+4915123456789' }));
  await service.markLoaded(pickup.id, 'staff:staff-1');
  await smsJobsDone();
  expect((await world.dokubox.store.get(pickup.id))?.state).toBe('notified');
  await world.dokubox.events.drain();
  return pickup.id;
}

/** A loaded pickup whose ready SMS ended with `failure` (state still loaded, an sms_failed alarm raised). */
async function loadedWithFailedReadySms(failure: SmsSendError): Promise<{ id: string }> {
  const { service } = world.dokubox;
  const { pickup } = await service.submitNotice(caseSystem, notice({ language: 'de', mobile: '+4915123456789' }));
  gateway.failNext(failure);
  await service.markLoaded(pickup.id, 'staff:staff-1');
  await smsJobsDone();
  return pickup;
}

async function codeOf(pickupId: string): Promise<string> {
  return world.dokubox.service.personalData((await world.dokubox.store.get(pickupId))!).code!;
}

const verify = (code: string) => world.dokubox.service.verify(kiosk, BOX, { code, dateOfBirth: DATE_OF_BIRTH });
const pickupKey = (pickupId: string) => `${world.config.REDIS_KEY_PREFIX}:pickup:${pickupId}`;
const codesKey = () => `${world.config.REDIS_KEY_PREFIX}:box:${BOX}:codes`;
const newCode = (pickupId: string, key: string = KEYS.staff) => world.request('POST', `/v1/pickups/${pickupId}/code`, { key });

describe('a new code issued by staff', () => {
  it('replaces the old code: the old one no longer verifies, the new one does, and failures and the block are cleared', async () => {
    const pickupId = await notifiedPickup();
    const old = await codeOf(pickupId);
    // What the kiosk leaves after failed checks of the second factor (blocking is built elsewhere).
    await world.dokubox.redis.hset(pickupKey(pickupId), 'verifyFailures', '3', 'codeBlocked', '1');

    const res = await newCode(pickupId);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ pickupId, codeGeneration: 1, state: 'notified', sms: 'queued' });

    const fresh = await codeOf(pickupId);
    expect(fresh).toMatch(/^\d{6}$/);
    expect(fresh).not.toBe(old);
    expect((await rejection(verify(old))).code).toBe('VERIFICATION_FAILED');
    expect(await verify(fresh)).toMatchObject({ pickupId });

    const hash = await world.dokubox.redis.hgetall(pickupKey(pickupId));
    expect(hash.verifyFailures).toBeUndefined();
    expect(hash.codeBlocked).toBeUndefined();
    expect(hash.codeGeneration).toBe('1');
    expect(hash.codeHash).toBe(hashCode(Buffer.from(world.config.SECRET_KEY, 'base64'), BOX, fresh));
    // The box's live codes: only the new one for this pickup.
    expect(await world.dokubox.redis.hgetall(codesKey())).toEqual({ [hash.codeHash!]: pickupId });

    const last = (await world.dokubox.store.history(pickupId)).at(-1);
    expect(last).toMatchObject({ type: 'pickup.code', from: 'notified', to: 'notified', reason: 'code_reissued', actor: 'staff:staff-1', codeGeneration: 1 });
    expect(JSON.stringify(await world.dokubox.store.history(pickupId))).not.toContain(fresh);
  });

  it('sends exactly one code SMS per generation, each with its own new code', async () => {
    const pickupId = await notifiedPickup();

    await world.dokubox.service.issueNewCode(staff, { pickupId }, 'staff:staff-1');
    await smsJobsDone();
    const first = await codeOf(pickupId);
    await world.dokubox.service.issueNewCode(staff, { pickupId }, 'staff:staff-1');
    await smsJobsDone();
    const second = await codeOf(pickupId);

    expect(gateway.sent.map((m) => m.foreignId)).toEqual([`${pickupId}.ready`, `${pickupId}.code.1`, `${pickupId}.code.2`]);
    const [, one, two] = gateway.sent;
    expect(first).not.toBe(second);
    expect(one!.text).toContain(first);
    expect(one!.text).toMatch(/^Neuer Code für die DokuBox /);
    expect(one!.to).toBe('+4915123456789');
    expect(two!.text).toContain(second);
    expect(two!.text).not.toContain(first);

    // A replayed event or a second notify of a generation that was sent queues nothing.
    expect(await world.dokubox.sms.notify(pickupId, 'code', { generation: 1 })).toBe('duplicate');
    expect(await world.dokubox.sms.notify(pickupId, 'code', { generation: 2 })).toBe('duplicate');
    const reasons = (await world.dokubox.store.history(pickupId)).map((e) => e.reason);
    expect(reasons.filter((r) => r === 'code_sent')).toHaveLength(2);
    expect(gateway.sent).toHaveLength(3);
  });

  it('sends nothing for a generation that a newer code overtook before its SMS left', async () => {
    const pickupId = await notifiedPickup();
    await world.dokubox.sms.stopWorker();
    await world.dokubox.service.issueNewCode(staff, { pickupId }, 'staff:staff-1');
    await world.dokubox.events.drain(); // generation 1 queued, not sent
    await world.dokubox.service.issueNewCode(staff, { pickupId }, 'staff:staff-1');
    const current = await codeOf(pickupId);

    const restarted = world.dokubox.sms.start();
    await smsJobsDone(2, restarted);
    expect(gateway.sent.map((m) => m.foreignId)).toEqual([`${pickupId}.ready`, `${pickupId}.code.2`]);
    expect(gateway.sent[1]!.text).toContain(current);
    // Generation 1 ended as skipped and stays done.
    expect(await world.dokubox.sms.notify(pickupId, 'code', { generation: 1 })).toBe('duplicate');
  });

  it('sends no code SMS once the pickup has left notified', async () => {
    const pickupId = await notifiedPickup();
    await world.dokubox.sms.stopWorker();
    await world.dokubox.service.issueNewCode(staff, { pickupId }, 'staff:staff-1');
    await world.dokubox.events.drain();
    await world.dokubox.service.markCollected(pickupId, 'kiosk:kiosk-1', 'code_and_date_of_birth');
    const restarted = world.dokubox.sms.start();
    await smsJobsDone(1, restarted);
    expect(gateway.sent.map((m) => m.foreignId)).toEqual([`${pickupId}.ready`]);
  });

  it('is not reported to the case system: its next report after notified is the next state', async () => {
    const pickupId = await notifiedPickup();
    await world.dokubox.service.issueNewCode(staff, { pickupId }, 'staff:staff-1');
    await smsJobsDone();
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId }, 'cancelled_by_case_system');
    await world.dokubox.events.drain();

    await callback.waitUntil((reports) => reports.some((r) => r.pickupId === pickupId && r.status === 'cancelled'));
    const reports = callback.reports.filter((r) => r.pickupId === pickupId);
    expect(reports.map((r) => r.status)).toEqual(['reserved', 'loaded', 'notified', 'cancelled']);
    const events = await world.dokubox.store.history(pickupId);
    const codeEvents = events.filter((e) => e.reason === 'code_reissued' || e.reason === 'code_sent');
    expect(codeEvents.map((e) => e.reason)).toEqual(['code_reissued', 'code_sent']);
    for (const event of codeEvents) expect(reportFor(event)).toBeUndefined();
  });

  it('turns a refused code SMS into sms_failed and a staff alarm, and records its delivery reports, like a reminder', async () => {
    const pickupId = await notifiedPickup();
    gateway.failNext(new SmsSendError('invalid_number', 'unknown subscriber'));
    await world.dokubox.service.issueNewCode(staff, { pickupId }, 'staff:staff-1');
    await smsJobsDone();
    expect((await world.dokubox.alarms.list(BOX)).some((a) => a.kind === 'sms_failed' && a.pickupId === pickupId && a.detail === 'code:invalid_number')).toBe(true);

    await world.dokubox.service.issueNewCode(staff, { pickupId }, 'staff:staff-1');
    await smsJobsDone();
    const sent = gateway.sent.at(-1)!;
    expect(sent.foreignId).toBe(`${pickupId}.code.2`);
    expect(await world.dokubox.sms.lookupMessage(sent.providerMessageId)).toEqual({ pickupId, kind: 'code', generation: 2 });
    await gateway.report(sent.providerMessageId, 'failed');
    await gateway.report(sent.providerMessageId, 'failed');
    const reasons = (await world.dokubox.store.history(pickupId)).map((e) => e.reason);
    expect(reasons.slice(3)).toEqual(['code_reissued', 'sms_failed', 'code_reissued', 'code_sent', 'sms_undeliverable']);
    expect((await world.dokubox.alarms.list(BOX)).filter((a) => a.kind === 'sms_undeliverable' && a.detail === 'code:failed')).toHaveLength(1);
  });

  it('gives a loaded pickup whose ready SMS timed out (the code may never have arrived) a new code: its SMS takes the ready SMS\'s place and makes the pickup notified', async () => {
    const pickup = await loadedWithFailedReadySms(new SmsSendError('timeout', 'no answer in time'));
    // Uncertain: not sent again, staff alarmed, the pickup still loaded.
    expect((await world.dokubox.store.get(pickup.id))?.state).toBe('loaded');
    expect((await world.dokubox.alarms.list(BOX)).some((a) => a.kind === 'sms_failed' && a.pickupId === pickup.id && a.detail === 'ready:uncertain')).toBe(true);
    const old = await codeOf(pickup.id);

    const res = await newCode(pickup.id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ pickupId: pickup.id, codeGeneration: 1, state: 'loaded', sms: 'queued' });
    await smsJobsDone();

    const fresh = await codeOf(pickup.id);
    expect(gateway.sent.map((m) => m.foreignId)).toEqual([`${pickup.id}.code.1`]);
    expect(gateway.sent[0]!.text).toContain(fresh);
    // The deadline the pickup gets once notified (the box's working days from Monday 2 March), as the ready SMS would announce it.
    expect(gateway.sent[0]!.text).toMatch(/Abholbar bis Mi 11\.03\./);
    const stored = await world.dokubox.store.get(pickup.id);
    expect(stored?.state).toBe('notified');
    expect(stored?.deadline).toBeGreaterThan(world.clock.now());
    expect((await rejection(verify(old))).code).toBe('VERIFICATION_FAILED');
    expect(await verify(fresh)).toMatchObject({ pickupId: pickup.id });

    const history = await world.dokubox.store.history(pickup.id);
    expect(history.map((e) => e.reason).slice(2)).toEqual(['sms_failed', 'code_reissued', 'sms_accepted', 'code_sent']);
    expect(history.find((e) => e.reason === 'code_reissued')).toMatchObject({ from: 'loaded', to: 'loaded' });
    await world.dokubox.events.drain();
    await callback.waitUntil((reports) => reports.some((r) => r.pickupId === pickup.id && r.status === 'notified'));
    expect(callback.reports.filter((r) => r.pickupId === pickup.id).map((r) => r.status)).toEqual(['reserved', 'loaded', 'smsFailed', 'notified']);
  });

  it('gives a loaded pickup whose ready SMS the gateway refused a new code too, and a delivery report of that code\'s SMS makes it notified as well', async () => {
    const { service } = world.dokubox;
    const pickup = await loadedWithFailedReadySms(new SmsSendError('rejected', 'carrier refused'));
    expect((await world.dokubox.store.get(pickup.id))?.smsFailed).toBe(true);
    // The code SMS is accepted, but its delivery report overtakes the worker's bookkeeping (the worker is stopped).
    await world.dokubox.sms.stopWorker();
    await service.issueNewCode(staff, { pickupId: pickup.id }, 'staff:staff-1');
    await world.dokubox.events.drain();
    const restarted = world.dokubox.sms.start();
    await smsJobsDone(1, restarted);
    const sent = gateway.sent.at(-1)!;
    expect(sent.foreignId).toBe(`${pickup.id}.code.1`);
    await gateway.report(sent.providerMessageId, 'delivered');
    expect((await world.dokubox.store.get(pickup.id))?.state).toBe('notified');
    const reasons = (await world.dokubox.store.history(pickup.id)).map((e) => e.reason);
    expect(reasons.filter((r) => r === 'sms_accepted')).toHaveLength(1);
    expect(reasons.at(-1)).toBe('sms_delivered');
  });

  it('gives a loaded pickup another new code when the first new code\'s SMS failed as well', async () => {
    const { service } = world.dokubox;
    const pickup = await loadedWithFailedReadySms(new SmsSendError('timeout', 'no answer in time'));
    gateway.failNext(new SmsSendError('timeout', 'no answer in time'));
    await service.issueNewCode(staff, { pickupId: pickup.id }, 'staff:staff-1');
    await smsJobsDone();
    expect((await world.dokubox.store.get(pickup.id))?.state).toBe('loaded');
    expect((await world.dokubox.alarms.list(BOX)).some((a) => a.kind === 'sms_failed' && a.pickupId === pickup.id && a.detail === 'code:uncertain')).toBe(true);

    expect((await service.issueNewCode(staff, { pickupId: pickup.id }, 'staff:staff-1')).codeGeneration).toBe(2);
    await smsJobsDone();
    expect(gateway.sent.map((m) => m.foreignId)).toEqual([`${pickup.id}.code.2`]);
    expect((await world.dokubox.store.get(pickup.id))?.state).toBe('notified');
  });

  it('refuses a loaded pickup whose ready SMS is still on its way', async () => {
    const { service } = world.dokubox;
    await world.dokubox.sms.stopWorker();
    const { pickup } = await service.submitNotice(caseSystem, notice());
    await service.markLoaded(pickup.id, 'staff:staff-1');
    await world.dokubox.events.drain();
    const res = await newCode(pickup.id);
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ILLEGAL_TRANSITION');
    expect(body.error.message).toContain("'loaded'");
    expect(body.error.message).toContain('still on its way');
    expect(await world.dokubox.redis.hget(pickupKey(pickup.id), 'codeGeneration')).toBeNull();
  });

  it('draws again when the drawn code is live at the box or is the old code', async () => {
    draws = ['111111', '222222'];
    const first = await notifiedPickup();
    const second = await notifiedPickup();
    expect(await codeOf(first)).toBe('111111');
    expect(await codeOf(second)).toBe('222222');

    draws = ['111111', '222222', '333333'];
    const { codeGeneration } = await world.dokubox.service.issueNewCode(staff, { pickupId: second }, 'staff:staff-1');
    expect(codeGeneration).toBe(1);
    expect(await codeOf(second)).toBe('333333');
    expect(await verify('111111')).toMatchObject({ pickupId: first });
    expect(await verify('333333')).toMatchObject({ pickupId: second });
    expect((await rejection(verify('222222'))).code).toBe('VERIFICATION_FAILED');
    expect(Object.keys(await world.dokubox.redis.hgetall(codesKey()))).toHaveLength(2);
  });

  it('gives two concurrent requests generations 1 and 2, and only the last code stays live', async () => {
    const pickupId = await notifiedPickup();
    const results = await Promise.all([1, 2].map(() => world.dokubox.service.issueNewCode(staff, { pickupId }, 'staff:staff-1')));
    expect(results.map((r) => r.codeGeneration).sort()).toEqual([1, 2]);
    const hash = await world.dokubox.redis.hget(pickupKey(pickupId), 'codeHash');
    expect(await world.dokubox.redis.hgetall(codesKey())).toEqual({ [hash!]: pickupId });
    expect(await verify(await codeOf(pickupId))).toMatchObject({ pickupId });
  });

  it(`refuses the ${MAX_NEW_CODES + 1}th new code with CODE_LIMIT_REACHED and keeps the last code live`, async () => {
    const pickupId = await notifiedPickup();
    for (let i = 1; i <= MAX_NEW_CODES; i += 1) {
      expect((await world.dokubox.service.issueNewCode(staff, { pickupId }, 'staff:staff-1')).codeGeneration).toBe(i);
    }
    const last = await codeOf(pickupId);
    const res = await newCode(pickupId);
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('CODE_LIMIT_REACHED');
    expect(body.error.message).toMatch(/5 new codes.*counter/);
    expect(await codeOf(pickupId)).toBe(last);
    expect(await verify(last)).toMatchObject({ pickupId });
    expect(await world.dokubox.redis.hget(pickupKey(pickupId), 'codeGeneration')).toBe(String(MAX_NEW_CODES));
  });

  it('refuses a pickup that is not notified with 409, naming its state and what to do', async () => {
    const { pickup } = await world.dokubox.service.submitNotice(caseSystem, notice());
    const reserved = await newCode(pickup.id);
    expect(reserved.status).toBe(409);
    const body = (await reserved.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ILLEGAL_TRANSITION');
    expect(body.error.message).toContain("'reserved'");
    expect(body.error.message).toContain('not in the box yet');

    const collected = await notifiedPickup();
    await world.dokubox.service.markCollected(collected, 'kiosk:kiosk-1', 'code_and_date_of_birth');
    const error = await rejection(world.dokubox.service.issueNewCode(staff, { pickupId: collected }, 'staff:staff-1'));
    expect(error).toMatchObject({ code: 'ILLEGAL_TRANSITION', status: 409 });
    expect(error.message).toContain("'collected'");
    expect(await world.dokubox.redis.hget(pickupKey(collected), 'codeGeneration')).toBeNull();
  });

  it("answers 404 for another authority's pickup and for an unknown one", async () => {
    const pickupId = await notifiedPickup();
    const other: ClientIdentity = { id: 'staff-dd', role: 'staff', authority: 'dresden-abh' };
    expect(await rejection(world.dokubox.service.issueNewCode(other, { pickupId }, 'staff:staff-dd'))).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect((await newCode('p-unknown')).status).toBe(404);
    expect(await world.dokubox.redis.hget(pickupKey(pickupId), 'codeGeneration')).toBeNull();
  });

  it('is for staff and admin keys only: kiosk, case-system, locker and monitoring keys get 403, no key 401', async () => {
    const pickupId = await notifiedPickup();
    for (const key of [KEYS.kiosk, KEYS.caseSystem, KEYS.locker, KEYS.monitoring]) expect((await newCode(pickupId, key)).status).toBe(403);
    expect((await world.request('POST', `/v1/pickups/${pickupId}/code`, { key: null })).status).toBe(401);
    expect(await world.dokubox.redis.hget(pickupKey(pickupId), 'codeGeneration')).toBeNull();

    const res = await newCode(pickupId, KEYS.admin);
    expect(res.status).toBe(200);
    expect((await world.dokubox.store.history(pickupId)).at(-1)).toMatchObject({ reason: 'code_reissued', actor: 'admin:admin-1' });
  });

  it('queues a code SMS only with a generation, and other kinds only without one', async () => {
    const pickupId = await notifiedPickup();
    await expect(world.dokubox.sms.notify(pickupId, 'code')).rejects.toThrow(/generation/);
    await expect(world.dokubox.sms.notify(pickupId, 'reminder', { generation: 1 })).rejects.toThrow(/no generation/);
  });
});
