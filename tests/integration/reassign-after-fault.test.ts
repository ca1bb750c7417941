/**
 * Staff put the documents of a pickup whose compartment failed during loading
 * into another compartment (POST /v1/pickups/{id}/reassign): only for a fault
 * from `reserved`, when the documents never went in; the pickup gets the next
 * sound compartment, the failed one stays defective, the case system hears
 * of it, and the action is audited. Through the real composition root and Redis.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientIdentity } from '../../src/service/types.js';
import { AUTHORITY, BOX, createWorld, KEYS, notice, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

let world: TestWorld;
beforeEach(async () => {
  world = await createWorld({ start: '2026-03-02T09:00:00Z' });
});
afterEach(async () => world.close());

const reassign = (pickupId: string, options: { key?: string; body?: unknown } = {}) =>
  world.request('POST', `/v1/pickups/${pickupId}/reassign`, { key: options.key ?? KEYS.staff, ...(options.body === undefined ? {} : { body: options.body }) });

async function stateOf(boxId: string, compartment: string): Promise<string | undefined> {
  const box = world.dokubox.boxes.get(boxId)!;
  return (await world.dokubox.store.listCompartments(box)).find((c) => c.id === compartment)?.state;
}

describe('POST /v1/pickups/{pickupId}/reassign', () => {
  it('gives a pickup whose door did not open for loading the next sound compartment, keeps the failed one defective and audits the action', async () => {
    const { service, store } = world.dokubox;
    const { pickup } = await service.submitNotice(caseSystem, notice());
    const failed = pickup.compartment!;
    await service.markFault(pickup.id, 'door_did_not_open', 'locker:gw1');

    const res = await reassign(pickup.id, { body: { reason: 'door 1 jammed at loading' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; state: string; compartment: string | null };
    expect(body).toMatchObject({ id: pickup.id, state: 'reserved' });
    expect(body.compartment).not.toBeNull();
    expect(body.compartment).not.toBe(failed);
    expect(await stateOf(BOX, failed)).toBe('defective');
    expect((await store.history(pickup.id)).map((e) => [e.from, e.to, e.reason, e.actor])).toEqual([
      [null, 'reserved', 'notice_received', 'case-system:case-1'],
      ['reserved', 'fault', 'door_did_not_open', 'locker:gw1'],
      ['fault', 'waiting', 'fault_resolved', 'staff:staff-1'],
      ['waiting', 'reserved', 'compartment_assigned', 'system'],
    ]);
    const [entry] = await service.auditTrail({ id: 'staff-1', role: 'staff', authority: AUTHORITY }, { pickupId: pickup.id, limit: 10 });
    expect(entry).toMatchObject({ action: 'pickup_reassigned', actor: 'staff:staff-1', pickupId: pickup.id, boxId: BOX, compartment: failed, reason: 'door 1 jammed at loading' });
    // The new compartment is loaded as any other: the pickup goes on from there.
    expect((await service.markLoaded(pickup.id, 'staff:s1')).state).toBe('loaded');
  });

  it('puts the pickup on the waiting list when the box has no sound compartment left, and serves it first when one is freed', async () => {
    const { service } = world.dokubox;
    const small = [];
    for (let i = 0; i < 4; i += 1) small.push((await service.submitNotice(caseSystem, notice({ boxId: 'small' }))).pickup);
    const [faulty, , , other] = small;
    await service.markFault(faulty!.id, 'compartment_defective', 'staff:staff-1');

    const res = await reassign(faulty!.id);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: 'waiting', compartment: null });
    await service.cancelPickup(caseSystem, { pickupId: other!.id }, 'cancelled_by_case_system');
    expect((await service.getPickup(caseSystem, { pickupId: faulty!.id })).compartment).toBe(other!.compartment);
  });

  it('refuses a fault whose documents went in before it, and every state but fault, with a 409 that says what to do', async () => {
    const { service } = world.dokubox;
    const { pickup } = await service.submitNotice(caseSystem, notice());
    await service.markLoaded(pickup.id, 'staff:s1');
    await service.markFault(pickup.id, 'item_missing_after_loading', 'locker:gw1');
    const inside = await reassign(pickup.id);
    expect(inside.status).toBe(409);
    const error = (await inside.json()) as { error: { code: string; message: string } };
    expect(error.error.code).toBe('ILLEGAL_TRANSITION');
    expect(error.error.message).toContain(`compartment ${pickup.compartment}`);
    expect(error.error.message).toContain('cancel the pickup');
    expect((await service.getPickup(caseSystem, { pickupId: pickup.id })).state).toBe('fault');

    const { pickup: reserved } = await service.submitNotice(caseSystem, notice());
    const notFault = await reassign(reserved.id);
    expect(notFault.status).toBe(409);
    expect(((await notFault.json()) as { error: { message: string } }).error.message).toContain("This pickup is 'reserved'");
  });

  it('is for staff: the case system, a kiosk and no key are refused, an unknown pickup is a 404, a bad body is a 400', async () => {
    const { service } = world.dokubox;
    const { pickup } = await service.submitNotice(caseSystem, notice());
    await service.markFault(pickup.id, 'door_did_not_open', 'locker:gw1');
    expect((await reassign(pickup.id, { key: KEYS.caseSystem })).status).toBe(403);
    expect((await reassign(pickup.id, { key: KEYS.kiosk })).status).toBe(403);
    expect((await world.request('POST', `/v1/pickups/${pickup.id}/reassign`, { key: null })).status).toBe(401);
    expect((await reassign('no-such-pickup')).status).toBe(404);
    const short = await reassign(pickup.id, { body: { reason: 'no' } });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { error: { field?: string } }).error.field).toBe('reason');
    const unknown = await reassign(pickup.id, { body: { compartment: '007' } });
    expect(unknown.status).toBe(400);
    expect((await service.getPickup(caseSystem, { pickupId: pickup.id })).state).toBe('fault');
  });
});
