/**
 * Pickups and the SMS queue through the composition root: which state
 * change sends which message, and what becomes of the outcome.
 */
import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySmsGateway } from '../../adapters/sms/memory/index.js';
import { SmsSendError } from '../../adapters/sms/types.js';
import type { ClientIdentity } from '../../src/service/types.js';
import { AUTHORITY, BOX, createWorld, notice, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

let world: TestWorld;
let gateway: MemorySmsGateway;
let worker: Worker;

beforeEach(async () => {
  gateway = new MemorySmsGateway();
  // 10:00 in Magdeburg on a Monday: inside the sending window.
  world = await createWorld({ start: '2026-03-02T09:00:00Z', smsGateway: gateway, env: { SMS_QUIET_HOURS: 'off' } });
  worker = world.dokubox.sms.start();
});
afterEach(async () => world.close());

/** Lets the event subscribers queue their jobs, then waits for the next SMS job to end (sent, skipped or failed). */
async function processed(): Promise<void> {
  const done = new Promise<void>((resolve) => {
    const finish = () => {
      worker.off('completed', finish);
      worker.off('failed', finish);
      resolve();
    };
    worker.on('completed', finish);
    worker.on('failed', finish);
  });
  await world.dokubox.events.drain();
  await done;
}

async function loadedPickup(mobile = '+4915123456789') {
  const { pickup } = await world.dokubox.service.submitNotice(caseSystem, notice({ mobile, language: 'en' }));
  await world.dokubox.service.markLoaded(pickup.id, 'staff:s1');
  return pickup.id;
}

const reasons = async (pickupId: string) => (await world.dokubox.store.history(pickupId)).map((e) => e.reason);

describe('SMS for pickups', () => {
  it('sends the ready SMS with the code in the applicant’s language once loaded, and the pickup becomes notified', async () => {
    const pickupId = await loadedPickup();
    await processed();
    const code = world.dokubox.service.personalData((await world.dokubox.store.get(pickupId))!).code!;
    expect(gateway.sent).toHaveLength(1);
    expect(gateway.sent[0]!.to).toBe('+4915123456789');
    expect(gateway.sent[0]!.text).toContain(code);
    expect(gateway.sent[0]!.text).toMatch(/[A-Za-z]/);
    expect((await world.dokubox.store.get(pickupId))?.state).toBe('notified');
  });

  it('records a permanent failure as an event for the case system and an alarm for staff', async () => {
    gateway.failNext(new SmsSendError('invalid_number', 'unknown subscriber'));
    const pickupId = await loadedPickup();
    await processed();
    expect((await world.dokubox.store.get(pickupId))?.state).toBe('loaded');
    expect(await reasons(pickupId)).toContain('sms_failed');
    const alarms = await world.dokubox.alarms.list(BOX);
    expect(alarms.some((a) => a.kind === 'sms_failed' && a.pickupId === pickupId)).toBe(true);
    expect(JSON.stringify(alarms)).not.toContain('15123456789');
  });

  it('tells the applicant about a cancellation after notification, then forgets the number', async () => {
    const pickupId = await loadedPickup('+4917611112222');
    await processed();
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId }, 'cancelled_by_case_system');
    await processed();
    expect(gateway.sent.map((m) => m.to)).toEqual(['+4917611112222', '+4917611112222']);
    expect(await world.dokubox.redis.exists(`${world.config.REDIS_KEY_PREFIX}:farewell:${pickupId}`)).toBe(0);
  });

  it('sends nothing when a pickup is cancelled before the applicant was notified', async () => {
    const { pickup } = await world.dokubox.service.submitNotice(caseSystem, notice());
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId: pickup.id }, 'cancelled_by_case_system');
    await world.dokubox.events.drain();
    expect(await world.dokubox.redis.exists(`${world.config.REDIS_KEY_PREFIX}:farewell:${pickup.id}`)).toBe(0);
    expect(gateway.sent).toEqual([]);
  });

  it('records delivery reports: undeliverable as an event and a staff alarm, a later delivered as an event too', async () => {
    const pickupId = await loadedPickup();
    await processed();
    const id = gateway.sent[0]!.providerMessageId;
    await gateway.report(id, 'failed');
    await gateway.report(id, 'delivered');
    expect(await reasons(pickupId)).toEqual(['notice_received', 'staff_loaded', 'sms_accepted', 'sms_undeliverable', 'sms_delivered']);
    expect((await world.dokubox.alarms.list(BOX)).some((a) => a.kind === 'sms_undeliverable' && a.pickupId === pickupId)).toBe(true);
  });

  it('records a repeated delivery report of the same message once, also when two arrive at the same time', async () => {
    const pickupId = await loadedPickup();
    await processed();
    const id = gateway.sent[0]!.providerMessageId;
    await gateway.report(id, 'delivered');
    await gateway.report(id, 'delivered');
    await Promise.all([gateway.report(id, 'delivered'), gateway.report(id, 'delivered')]);
    expect((await reasons(pickupId)).filter((r) => r === 'sms_delivered')).toHaveLength(1);
  });

  it('raises one alarm for repeated undeliverable reports of the same message', async () => {
    const pickupId = await loadedPickup();
    await processed();
    const id = gateway.sent[0]!.providerMessageId;
    await Promise.all([gateway.report(id, 'failed'), gateway.report(id, 'failed')]);
    await gateway.report(id, 'expired');
    expect((await reasons(pickupId)).filter((r) => r === 'sms_undeliverable')).toHaveLength(1);
    expect((await world.dokubox.alarms.list(BOX)).filter((a) => a.kind === 'sms_undeliverable' && a.pickupId === pickupId)).toHaveLength(1);
  });

  it('does not record an undeliverable report after the same message was reported delivered', async () => {
    const pickupId = await loadedPickup();
    await processed();
    const id = gateway.sent[0]!.providerMessageId;
    await gateway.report(id, 'delivered');
    await gateway.report(id, 'failed');
    expect(await reasons(pickupId)).toEqual(['notice_received', 'staff_loaded', 'sms_accepted', 'sms_delivered']);
    expect((await world.dokubox.alarms.list(BOX)).some((a) => a.kind === 'sms_undeliverable')).toBe(false);
  });

  it('records a delivery report that reaches two service instances at once as one event', async () => {
    const pickupId = await loadedPickup();
    await processed();
    const id = gateway.sent[0]!.providerMessageId;
    const second = await createWorld({ config: world.config, smsGateway: gateway });
    try {
      await gateway.report(id, 'delivered');
    } finally {
      await second.dokubox.close();
    }
    expect((await reasons(pickupId)).filter((r) => r === 'sms_delivered')).toHaveLength(1);
  });

  it('a delivery report that overtakes the acceptance of the ready SMS still comes after notified', async () => {
    const pickupId = await loadedPickup();
    // The gateway answered the send and fired the delivery report at once; the report is handled
    // before the worker got to record the acceptance (another instance, or just faster).
    await world.dokubox.redis.set(`${world.config.REDIS_KEY_PREFIX}:bull:sms:sms:msg:gw-1`, JSON.stringify({ pickupId, kind: 'ready' }));
    await gateway.report('gw-1', 'delivered');
    expect(await reasons(pickupId)).toEqual(['notice_received', 'staff_loaded', 'sms_accepted', 'sms_delivered']);
    expect((await world.dokubox.store.get(pickupId))?.state).toBe('notified');
  });

  it('reminds two working days before the deadline, once, through the sweep, and not after the pickup ended', async () => {
    const pickupId = await loadedPickup();
    await processed(); // ready SMS accepted -> notified, deadline Wednesday 11 March 19:30 (7 working days)
    await world.dokubox.events.drain(); // the notified event schedules the reminder
    const pickup = await world.dokubox.store.get(pickupId);
    expect(new Date(pickup?.deadline ?? 0).toISOString()).toBe('2026-03-11T18:30:00.000Z');
    expect(await world.dokubox.store.dueReminders(Date.parse('2026-03-09T18:29:59Z'))).toEqual([]);
    expect(await world.dokubox.store.dueReminders(Date.parse('2026-03-09T18:30:00Z'))).toEqual([pickupId]);

    world.clock.set('2026-03-09T18:31:00Z');
    const sent = new Promise<void>((resolve) => worker.once('completed', () => resolve()));
    expect(await world.dokubox.maintenance.sweep()).toEqual({ expired: 0, reminders: 1 });
    await sent;
    expect(gateway.sent.map((m) => m.foreignId)).toEqual([`${pickupId}.ready`, `${pickupId}.reminder`]);
    expect(await reasons(pickupId)).toContain('reminder_sent');
    // Due once: the next sweep finds nothing.
    expect(await world.dokubox.maintenance.sweep()).toEqual({ expired: 0, reminders: 0 });
  });

  it('forgets the reminder when the pickup is collected before it is due', async () => {
    const pickupId = await loadedPickup();
    await processed();
    await world.dokubox.events.drain();
    await world.dokubox.service.markCollected(pickupId, 'kiosk:k1', 'code_and_date_of_birth');
    world.clock.set('2026-03-10T09:00:00Z');
    expect(await world.dokubox.store.dueReminders(world.clock.now())).toEqual([]);
    expect(await world.dokubox.maintenance.sweep()).toEqual({ expired: 0, reminders: 0 });
  });
});
