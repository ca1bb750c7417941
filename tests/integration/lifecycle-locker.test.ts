/**
 * The physical cycle of pickups through the Kerong adapter and the CU16
 * emulator over TCP: loading, pickup, expiry, cancellation after loading, and
 * every fault, with the events and alarms that result. Timeouts of the
 * lifecycle run on the manual clock; the adapter polls in real time.
 */
import { once } from 'node:events';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KerongLocker } from '../../adapters/locker/kerong/index.js';
import type { CompartmentLayout, GatewayConfig, LockerEvent } from '../../adapters/locker/types.js';
import { BoxLifecycle } from '../../src/lifecycle/box-lifecycle.js';
import { RedisAlarms, type Alarm } from '../../src/store/alarms.js';
import type { ClientIdentity } from '../../src/service/types.js';
import { Cu16Emulator } from '../../simulator/locker/cu16-emulator.js';
import { AUTHORITY, createWorld, notice, rejection, type TestWorld } from '../support/harness.js';

const BOX = 'small';
const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };
const staff: ClientIdentity = { id: 'staff-1', role: 'staff', authority: AUTHORITY };
const kiosk: ClientIdentity = { id: 'kiosk-1', role: 'kiosk', authority: AUTHORITY };
const silent = pino({ level: 'silent' });

let world: TestWorld;
let emulator: Cu16Emulator;
let locker: KerongLocker;
let lifecycle: BoxLifecycle;
let alarms: Alarm[];

let layout: CompartmentLayout[];
let gateways: GatewayConfig[];

beforeEach(async () => {
  world = await createWorld({ start: '2026-03-02T09:00:00Z' });
  layout = world.dokubox.boxes.get(BOX)!.compartments.map((c, i) => ({ id: c.id, locker: { gateway: 'gw1', board: 0, lock: i } }));
  emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }], compartments: layout });
  gateways = await emulator.start();
  alarms = [];
  await connect(layout);
});

/** A locker adapter and lifecycle for the emulated box (what a start of the service builds); resolves once every door is known. */
async function connect(compartments: CompartmentLayout[]): Promise<void> {
  locker = new KerongLocker({
    config: { gateways, pollIntervalMs: 10, replyTimeoutMs: 150, drainMs: 20, offlineAfterMissedPolls: 3, reconnectInitialMs: 20, reconnectMaxMs: 100 },
    compartments,
    logger: silent,
  });
  lifecycle = new BoxLifecycle({
    box: world.dokubox.boxes.get(BOX)!,
    adapter: locker,
    service: world.dokubox.service,
    alarms: new RedisAlarms(world.dokubox.redis, world.config.REDIS_KEY_PREFIX, world.clock, silent, (a) => alarms.push(a)),
    clock: world.clock,
    logger: silent,
    doorOpenTimeoutMs: 5000,
    doorLeftOpenMs: 120_000,
  });
  lifecycle.start();
  const ready = until(() => locker.snapshot().every((s) => s.door !== 'unknown'));
  await locker.start();
  await ready;
}

/** The service stops and starts again (its Redis keeps the pickups); the box stays as it is. */
async function restartService(compartments: CompartmentLayout[] = layout): Promise<void> {
  lifecycle.stop();
  await locker.stop();
  await connect(compartments);
}

afterEach(async () => {
  lifecycle.stop();
  await locker.stop();
  await emulator.stop();
  await world.close();
});

/** Resolves when `check` holds, re-checked after every adapter poll cycle once the lifecycle has handled its events. */
function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const probe = async (): Promise<void> => {
      if (done) return;
      await lifecycle.settled();
      if (done || !(await check())) return;
      done = true;
      cleanup();
      resolve();
    };
    const listener = () => void probe();
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('condition not reached'));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      locker.off('cycle', listener);
    };
    locker.on('cycle', listener);
    void probe();
  });
}

const stateOf = async (pickupId: string) => (await world.dokubox.store.get(pickupId))?.state;
const history = async (pickupId: string) => (await world.dokubox.service.getPickup(caseSystem, { pickupId })).history.map((h) => h.to);

async function reserved() {
  const input = notice({ boxId: BOX });
  const { pickup } = await world.dokubox.service.submitNotice(caseSystem, input);
  return { input, pickupId: pickup.id, compartment: pickup.compartment! };
}

async function loaded() {
  const r = await reserved();
  const opened = await lifecycle.openForLoading(staff, r.input.documents[0]!.serialNumber);
  expect(opened.compartment).toBe(r.compartment);
  emulator.insertItem(r.compartment);
  emulator.closeDoor(r.compartment);
  await until(async () => (await stateOf(r.pickupId)) === 'loaded');
  return r;
}

async function notified() {
  const r = await loaded();
  await world.dokubox.service.markNotified(r.pickupId);
  const pickup = await world.dokubox.store.get(r.pickupId);
  return { ...r, code: world.dokubox.service.personalData(pickup!).code! };
}


describe('box lifecycle over the CU16 emulator', () => {
  it('loads: the scanned document opens its compartment, closing with the document inside makes it loaded', async () => {
    const r = await loaded();
    expect(emulator.unlockCount(r.compartment)).toBe(1);
    expect(await history(r.pickupId)).toEqual(['reserved', 'loaded']);
  });

  it('raises an alarm and stays reserved when the door closes without the document', async () => {
    const r = await reserved();
    await lifecycle.openForLoading(staff, r.input.documents[0]!.serialNumber);
    emulator.closeDoor(r.compartment);
    await until(() => alarms.some((a) => a.kind === 'loaded_without_document'));
    expect(await stateOf(r.pickupId)).toBe('reserved');
  });

  it('collects: a verified code opens the door, taking the document and closing ends the pickup and serves the waiting list', async () => {
    const r = await notified();
    for (let i = 0; i < 4; i += 1) await world.dokubox.service.submitNotice(caseSystem, notice({ boxId: BOX }));
    const waiting = (await world.dokubox.store.waitingList(BOX))[0]!;
    const opened = await lifecycle.openForPickup(kiosk, { code: r.code, dateOfBirth: r.input.person.dateOfBirth });
    expect(opened).toEqual({ pickupId: r.pickupId, compartment: r.compartment });
    emulator.takeItem(r.compartment);
    emulator.closeDoor(r.compartment);
    await until(async () => (await stateOf(r.pickupId)) === 'collected');
    expect((await world.dokubox.store.get(r.pickupId))?.pii).toBeUndefined();
    expect(await world.dokubox.store.get(waiting)).toMatchObject({ state: 'reserved', compartment: r.compartment });
  });

  it('raises an alarm when the document is still inside after a pickup, and does not mark it collected', async () => {
    const r = await notified();
    await lifecycle.openForPickup(kiosk, { code: r.code, dateOfBirth: r.input.person.dateOfBirth });
    emulator.closeDoor(r.compartment);
    await until(() => alarms.some((a) => a.kind === 'item_left_after_pickup'));
    expect(await stateOf(r.pickupId)).toBe('notified');
  });

  it('expires at the deadline and returns the document when staff take it out', async () => {
    const r = await notified();
    world.clock.set('2026-03-12T08:00:00Z');
    expect(await world.dokubox.service.expireDue()).toBe(1);
    await lifecycle.openForRetrieval(staff, r.compartment, r.pickupId, 'taking the expired document out');
    emulator.takeItem(r.compartment);
    emulator.closeDoor(r.compartment);
    await until(async () => (await stateOf(r.pickupId)) === 'returned');
    expect(await history(r.pickupId)).toEqual(['reserved', 'loaded', 'notified', 'expired', 'returned']);
    // The opening is audited, with the reason, in the stream and in the pickup's own history.
    const [entry] = await world.dokubox.store.audit.list({ authority: AUTHORITY, pickupId: r.pickupId, limit: 5 });
    expect(entry).toMatchObject({ action: 'compartment_opened', actor: 'staff:staff-1', compartment: r.compartment, reason: 'taking the expired document out' });
    const events = await world.dokubox.store.history(r.pickupId);
    expect(events.filter((e) => e.type === 'pickup.audit').map((e) => [e.reason, e.from])).toEqual([['compartment_opened', 'expired']]);
  });

  it('cancels after loading: the compartment is a staff task until emptied through the door', async () => {
    const r = await loaded();
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId: r.pickupId }, 'cancelled_by_case_system');
    const box = world.dokubox.boxes.get(BOX)!;
    expect((await world.dokubox.store.listCompartments(box)).find((c) => c.id === r.compartment)?.state).toBe('retrieval');
    await lifecycle.openForRetrieval(staff, r.compartment, null, 'taking the expired document out');
    emulator.takeItem(r.compartment);
    emulator.closeDoor(r.compartment);
    await until(async () => (await world.dokubox.store.listCompartments(box)).find((c) => c.id === r.compartment)?.state === 'free');
  });

  it('marks the compartment defective and sends the applicant to the counter when the door does not open', async () => {
    const r = await notified();
    emulator.jamLock(r.compartment);
    const unlocked = once(emulator, 'unlock');
    const attempt = lifecycle.openForPickup(kiosk, { code: r.code, dateOfBirth: r.input.person.dateOfBirth });
    const failure = rejection(attempt);
    await unlocked;
    world.clock.advance(5000);
    const error = await failure;
    expect(error.code).toBe('COMPARTMENT_UNAVAILABLE');
    expect(error.message).toMatch(/counter/);
    await lifecycle.settled();
    expect(await stateOf(r.pickupId)).toBe('fault');
    expect(alarms.map((a) => a.kind)).toContain('door_did_not_open');
    const box = world.dokubox.boxes.get(BOX)!;
    expect((await world.dokubox.store.listCompartments(box)).find((c) => c.id === r.compartment)?.state).toBe('defective');
    expect(locker.snapshot().find((s) => s.compartmentId === r.compartment)?.enabled).toBe(false);
    // A defective compartment is never allocated.
    for (let i = 0; i < 4; i += 1) {
      const next = await world.dokubox.service.submitNotice(caseSystem, notice({ boxId: BOX }));
      expect(next.pickup.compartment).not.toBe(r.compartment);
    }
  });

  it('does not call a door that opened before its board went silent "did not open": the applicant may try again, and the box finishes the pickup when the board answers', async () => {
    const r = await notified();
    // The unlock reaches the board (the door springs open); the board answers nothing after it.
    emulator.once('unlock', () => emulator.silenceBoard('gw1', 0));
    const failure = rejection(lifecycle.openForPickup(kiosk, { code: r.code, dateOfBirth: r.input.person.dateOfBirth }));
    await until(() => alarms.some((a) => a.kind === 'board_offline'));
    world.clock.advance(5000);
    const error = await failure;
    expect(error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(error.message).toMatch(/did not confirm/);
    await lifecycle.settled();
    expect(await stateOf(r.pickupId)).toBe('notified');
    expect(alarms.map((a) => a.kind)).not.toContain('door_did_not_open');
    const box = world.dokubox.boxes.get(BOX)!;
    expect((await world.dokubox.store.listCompartments(box)).find((c) => c.id === r.compartment)?.state).not.toBe('defective');
    expect((await world.dokubox.service.doorOperations(BOX)).get(r.compartment)).toMatchObject({ purpose: 'pickup', pickupId: r.pickupId });

    // The board answers again: the open door is watched, and taking the document out and closing ends the pickup.
    emulator.silenceBoard('gw1', 0, false);
    await until(() => alarms.some((a) => a.kind === 'board_online'));
    emulator.takeItem(r.compartment);
    emulator.closeDoor(r.compartment);
    await until(async () => (await stateOf(r.pickupId)) === 'collected');
    expect(alarms.map((a) => a.kind)).not.toContain('door_opened_without_command');
  });

  it('hands the door operations over when this instance gives a gateway up: no "did not open", no door-left-open alarm, the records stay for the next instance', async () => {
    const open = await notified();
    await lifecycle.openForPickup(kiosk, { code: open.code, dateOfBirth: open.input.person.dateOfBirth });
    const opening = await notified();
    emulator.jamLock(opening.compartment);
    const unlocked = once(emulator, 'unlock');
    const failure = rejection(lifecycle.openForPickup(kiosk, { code: opening.code, dateOfBirth: opening.input.person.dateOfBirth }));
    await unlocked;
    await locker.disconnectGateway('gw1');
    // At once, not after the door-open timeout: another instance drives the door now.
    expect((await failure).code).toBe('DEPENDENCY_UNAVAILABLE');
    world.clock.advance(120_000);
    await lifecycle.settled();
    expect(alarms.map((a) => a.kind)).not.toContain('door_left_open');
    expect(alarms.map((a) => a.kind)).not.toContain('door_did_not_open');
    expect(await stateOf(opening.pickupId)).toBe('notified');
    const records = await world.dokubox.service.doorOperations(BOX);
    expect([...records.keys()].sort()).toEqual([open.compartment, opening.compartment].sort());
  });

  it('raises an alarm when a door stays open too long', async () => {
    const r = await notified();
    await lifecycle.openForPickup(kiosk, { code: r.code, dateOfBirth: r.input.person.dateOfBirth });
    world.clock.advance(119_000);
    expect(alarms.some((a) => a.kind === 'door_left_open')).toBe(false);
    world.clock.advance(1000);
    await until(() => alarms.some((a) => a.kind === 'door_left_open' && a.compartment === r.compartment));
  });

  it('raises a tamper alarm when a door opens without a command', async () => {
    emulator.forceOpen('A4');
    await until(() => alarms.some((a) => a.kind === 'door_opened_without_command' && a.compartment === 'A4'));
  });

  it('raises an alarm when a board stops answering', async () => {
    emulator.silenceBoard('gw1', 0);
    await until(() => alarms.some((a) => a.kind === 'board_offline'));
    emulator.silenceBoard('gw1', 0, false);
    await until(() => alarms.some((a) => a.kind === 'board_online'));
  });

  it('names the silent board and its compartments in the board_offline alarm, also in the alarm list staff read', async () => {
    emulator.silenceBoard('gw1', 0);
    await until(() => alarms.some((a) => a.kind === 'board_offline'));
    const raised = alarms.find((a) => a.kind === 'board_offline')!;
    expect(raised).toMatchObject({ gateway: 'gw1', board: 0 });
    expect(raised.detail).toBe('board 0 on gateway gw1, compartments A1-A4 (4): no_reply');
    const listed = (await world.dokubox.alarms.list(BOX)).find((a) => a.kind === 'board_offline');
    expect(listed).toMatchObject({ board: 0, detail: raised.detail });
  });

  it('refuses a second open of a compartment that is being opened', async () => {
    const r = await notified();
    await lifecycle.openForPickup(kiosk, { code: r.code, dateOfBirth: r.input.person.dateOfBirth });
    const error = await rejection(lifecycle.openForRetrieval(staff, r.compartment, r.pickupId, 'taking the expired document out'));
    expect(error.code).toBe('COMPARTMENT_UNAVAILABLE');
  });
  describe('after a board (re)connects, the item sensors are compared with the pickups', () => {
    const mismatches = () => alarms.filter((a) => a.kind === 'inventory_mismatch');

    it('raises inventory_mismatch when the box lost a notified pickup\'s document while dokubox was away (simulator restarted empty)', async () => {
      const r = await notified();
      // The box restarts empty (power cut, a simulator without its state) while dokubox restarts too.
      emulator.setItem(r.compartment, false);
      await restartService();
      expect(mismatches()).toEqual([
        expect.objectContaining({
          kind: 'inventory_mismatch',
          boxId: BOX,
          compartment: r.compartment,
          pickupId: r.pickupId,
          gateway: 'gw1',
          board: 0,
          detail: 'expected a document inside (pickup notified); the item sensor reads empty. Check the compartment.',
        }),
      ]);
      expect((await world.dokubox.alarms.list(BOX)).some((a) => a.kind === 'inventory_mismatch' && a.compartment === r.compartment)).toBe(true);
    });

    it('raises inventory_mismatch when a gateway comes back and a free compartment holds an item', async () => {
      // No poll cycles run while the gateway is gone: wait for the adapter's event itself.
      const offline = new Promise<void>((resolve) => {
        const listener = (e: LockerEvent) => {
          if (e.type !== 'board.offline') return;
          locker.off('event', listener);
          resolve();
        };
        locker.on('event', listener);
      });
      await emulator.dropGateway('gw1');
      await offline;
      emulator.setItem('A4', true);
      await emulator.restoreGateway('gw1');
      await until(() => alarms.some((a) => a.kind === 'board_online'));
      expect(mismatches()).toEqual([
        expect.objectContaining({ compartment: 'A4', detail: 'expected empty (compartment free); the item sensor reads an item inside. Check the compartment.' }),
      ]);
      expect(mismatches()[0]).not.toHaveProperty('pickupId');
    });

    it('raises nothing when the sensors agree with the pickups', async () => {
      const r = await notified();
      const held = await reserved();
      await restartService();
      expect(mismatches()).toEqual([]);
      expect(await stateOf(r.pickupId)).toBe('notified');
      expect(await stateOf(held.pickupId)).toBe('reserved');
    });

    it('leaves compartments without an item sensor out', async () => {
      const r = await notified();
      emulator.setItem(r.compartment, false);
      await restartService(layout.map((c) => ({ ...c, itemSensor: false })));
      expect(mismatches()).toEqual([]);
    });
  });
});
