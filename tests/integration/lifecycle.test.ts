import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientIdentity } from '../../src/service/types.js';
import { AUTHORITY, BOX, createWorld, notice, rejection, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };
const staff: ClientIdentity = { id: 'staff-1', role: 'staff', authority: AUTHORITY };
const kiosk: ClientIdentity = { id: 'kiosk-1', role: 'kiosk', authority: AUTHORITY };

async function codeOf(world: TestWorld, pickupId: string): Promise<string> {
  const pickup = await world.dokubox.store.get(pickupId);
  return world.dokubox.service.personalData(pickup!).code!;
}


describe('pickup lifecycle against Redis', () => {
  let world: TestWorld;
  beforeEach(async () => {
    world = await createWorld({ start: '2026-03-02T09:00:00Z' });
  });
  afterEach(async () => world.close());

  async function loadedAndNotified(overrides = {}) {
    const { service } = world.dokubox;
    const input = notice(overrides);
    const { pickup } = await service.submitNotice(caseSystem, input);
    const found = await service.findForLoading(staff, BOX, input.documents[0]!.serialNumber);
    expect(found.id).toBe(pickup.id);
    await service.markLoaded(pickup.id, 'staff:staff-1');
    await service.markNotified(pickup.id);
    return { input, pickup };
  }

  it('runs reserved -> loaded -> notified -> collected and deletes personal data at the end', async () => {
    const { service, store } = world.dokubox;
    const { input, pickup } = await loadedAndNotified();
    const code = await codeOf(world, pickup.id);
    expect(code).toMatch(/^\d{6}$/);

    const notified = await store.get(pickup.id);
    expect(notified?.state).toBe('notified');
    // Monday 2 March 2026 + 7 working days = Wednesday 11 March, 19:30 Berlin (18:30Z).
    expect(new Date(notified!.deadline!).toISOString()).toBe('2026-03-11T18:30:00.000Z');

    const verified = await service.verify(kiosk, BOX, { code, dateOfBirth: input.person.dateOfBirth });
    expect(verified).toEqual({ pickupId: pickup.id, compartment: pickup.compartment });
    await service.markCollected(pickup.id, 'kiosk:kiosk-1', 'code_and_date_of_birth');

    const ended = await store.get(pickup.id);
    expect(ended?.state).toBe('collected');
    expect(ended?.pii).toBeUndefined();
    expect(ended?.codeHash).toBeUndefined();
    const raw = await world.dokubox.redis.hgetall(`${world.config.REDIS_KEY_PREFIX}:pickup:${pickup.id}`);
    expect(JSON.stringify(raw)).not.toContain('Abdullahi');
    expect(await world.dokubox.redis.hlen(`${world.config.REDIS_KEY_PREFIX}:box:${BOX}:codes`)).toBe(0);
    expect(await world.dokubox.redis.hlen(`${world.config.REDIS_KEY_PREFIX}:box:${BOX}:serials`)).toBe(0);
    const compartments = await store.listCompartments(world.dokubox.boxes.get(BOX)!);
    expect(compartments.find((c) => c.id === pickup.compartment)?.state).toBe('free');

    const view = await service.getPickup(caseSystem, { pickupId: pickup.id });
    expect(view.history.map((h) => h.to)).toEqual(['reserved', 'loaded', 'notified', 'collected']);
    // The code is dead: it no longer verifies.
    expect((await rejection(service.verify(kiosk, BOX, { code, dateOfBirth: input.person.dateOfBirth }))).code).toBe('VERIFICATION_FAILED');
  });

  it('expires at the deadline, kills the code, and returns the document to the counter', async () => {
    const { service, store } = world.dokubox;
    const { input, pickup } = await loadedAndNotified();
    const code = await codeOf(world, pickup.id);

    world.clock.set('2026-03-11T18:29:59Z');
    expect(await service.expireDue()).toBe(0);
    world.clock.set('2026-03-11T18:30:00Z');
    expect(await service.expireDue()).toBe(1);
    expect((await store.get(pickup.id))?.state).toBe('expired');
    expect((await rejection(service.verify(kiosk, BOX, { code, dateOfBirth: input.person.dateOfBirth }))).code).toBe('VERIFICATION_FAILED');
    const compartments = await store.listCompartments(world.dokubox.boxes.get(BOX)!);
    expect(compartments.find((c) => c.id === pickup.compartment)?.state).toBe('retrieval');

    await service.markReturned(pickup.id, 'staff:staff-1');
    const returned = await store.get(pickup.id);
    expect(returned?.state).toBe('returned');
    expect(returned?.pii).toBeUndefined();
  });

  it('cancels a loaded pickup and keeps the compartment as a staff task until emptied', async () => {
    const { service, store, boxes } = world.dokubox;
    const { pickup } = await loadedAndNotified();
    await service.cancelPickup(caseSystem, { pickupId: pickup.id }, 'cancelled_by_case_system');
    const box = boxes.get(BOX)!;
    expect((await store.listCompartments(box)).find((c) => c.id === pickup.compartment)?.state).toBe('retrieval');
    expect((await store.get(pickup.id))?.pii).toBeUndefined();
    await service.compartmentAction(staff, BOX, pickup.compartment!, 'emptied');
    expect((await store.listCompartments(box)).find((c) => c.id === pickup.compartment)?.state).toBe('free');
  });

  it('cancels a waiting pickup and takes it off the waiting list', async () => {
    const { service, store } = world.dokubox;
    const small = [];
    for (let i = 0; i < 5; i += 1) small.push(await service.submitNotice(caseSystem, notice({ boxId: 'small' })));
    const waiting = small[4]!.pickup;
    expect(waiting.state).toBe('waiting');
    await service.cancelPickup(caseSystem, { messageId: waiting.messageId }, 'cancelled_by_case_system');
    expect(await store.waitingList('small')).toEqual([]);
  });

  it('marks a fault, takes the compartment out of use, and re-queues the pickup when resolved', async () => {
    const { service, store, boxes } = world.dokubox;
    const { pickup } = await service.submitNotice(caseSystem, notice());
    await service.markFault(pickup.id, 'door_did_not_open', 'locker:gw1');
    const box = boxes.get(BOX)!;
    expect((await store.listCompartments(box)).find((c) => c.id === pickup.compartment)?.state).toBe('defective');
    const resolved = await service.resolveFault(pickup.id, 'staff:staff-1');
    expect(resolved.state).toBe('reserved');
    expect(resolved.compartment).not.toBe(pickup.compartment);
    const view = await service.getPickup(caseSystem, { pickupId: pickup.id });
    expect(view.history.map((h) => h.to)).toEqual(['reserved', 'fault', 'waiting', 'reserved']);
  });

  it('records SMS outcomes as events without changing the state', async () => {
    const { service, store } = world.dokubox;
    const { pickup } = await loadedAndNotified();
    expect(await service.recordSms(pickup.id, 'sms_delivered', { smsStatus: 'delivered' })).toBe(true);
    const events = await store.history(pickup.id);
    expect(events.at(-1)).toMatchObject({ type: 'pickup.sms', from: 'notified', to: 'notified', reason: 'sms_delivered', seq: 4 });
    expect((await store.get(pickup.id))?.state).toBe('notified');
    expect(await service.recordSms('no-such-pickup', 'sms_failed')).toBe(false);
  });

  it('rejects illegal transitions with a typed error and changes nothing', async () => {
    const { service, store } = world.dokubox;
    const { pickup } = await service.submitNotice(caseSystem, notice());
    expect((await rejection(service.markNotified(pickup.id))).code).toBe('ILLEGAL_TRANSITION');
    expect((await rejection(service.markCollected(pickup.id, 'kiosk:k', 'code'))).code).toBe('ILLEGAL_TRANSITION');
    await service.cancelPickup(caseSystem, { pickupId: pickup.id }, 'cancelled_by_case_system');
    expect((await rejection(service.cancelPickup(caseSystem, { pickupId: pickup.id }, 'cancelled_by_case_system'))).code).toBe('ILLEGAL_TRANSITION');
    expect((await store.get(pickup.id))?.state).toBe('cancelled');
    expect((await store.history(pickup.id)).length).toBe(2);
  });

  it('returns the original pickup for the same message id and content, and a conflict for other content', async () => {
    const { service } = world.dokubox;
    const input = notice();
    const first = await service.submitNotice(caseSystem, input);
    const again = await service.submitNotice(caseSystem, structuredClone(input));
    expect(again.outcome).toBe('duplicate');
    expect(again.pickup.id).toBe(first.pickup.id);
    const changed = { ...input, mobile: '+4915199999999' };
    const error = await rejection(service.submitNotice(caseSystem, changed));
    expect(error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('verifies a partial date of birth only in its partial form, and rejects full dates in that year', async () => {
    const { service } = world.dokubox;
    const { pickup } = await loadedAndNotified({ person: { familyName: 'Haidari', givenNames: '', dateOfBirth: '1988' } });
    const code = await codeOf(world, pickup.id);
    // A fresh device each time, and a success between failures, so the attempt limits stay out of the way.
    let device = 0;
    const attempt = (entered: { code: string; dateOfBirth: string }) => service.verify(kiosk, BOX, entered, `test.${(device += 1)}`);
    const wrongCode = code === '000000' ? '000001' : '000000';
    for (const entered of [{ code, dateOfBirth: '1989' }, { code, dateOfBirth: '1988-06-15' }, { code, dateOfBirth: '1988-12-31' }, { code: wrongCode, dateOfBirth: '1988' }, { code: 'abc', dateOfBirth: '1988' }]) {
      expect((await rejection(attempt(entered))).code).toBe('VERIFICATION_FAILED');
      expect(await attempt({ code, dateOfBirth: 'XX.XX.1988' })).toMatchObject({ pickupId: pickup.id });
    }
    expect(await attempt({ code, dateOfBirth: '00.00.1988' })).toMatchObject({ pickupId: pickup.id });
    expect(await service.verify(kiosk, BOX, { code, dateOfBirth: '1988' })).toMatchObject({ pickupId: pickup.id });
  });
});

describe('pickup codes at one box', () => {
  it('are unique among live codes: a drawn duplicate is replaced by a fresh draw', async () => {
    const draws = ['111111', '111111', '222222'];
    const world = await createWorld({ randomCode: () => draws.shift() ?? '333333' });
    try {
      const { service } = world.dokubox;
      const a = notice();
      const b = notice();
      const first = await service.submitNotice(caseSystem, a);
      const second = await service.submitNotice(caseSystem, b);
      await service.markLoaded(first.pickup.id, 'staff:s');
      await service.markLoaded(second.pickup.id, 'staff:s');
      expect(await codeOf(world, first.pickup.id)).toBe('111111');
      expect(await codeOf(world, second.pickup.id)).toBe('222222');
    } finally {
      await world.close();
    }
  });
});
