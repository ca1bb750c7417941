/**
 * An instance stops while a door it opened is still in use: the instance
 * that takes over the box finishes the operation, whether the door is still
 * open when it takes over or was closed while nobody watched. (The scenario
 * "the instance driving the box killed while a door is open" does the same
 * with kill -9.)
 */
import { once } from 'node:events';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Cu16Emulator } from '../../simulator/locker/cu16-emulator.js';
import { KEYS, notice, type TestWorld } from '../support/harness.js';
import { twoInstancesOfSmallBox } from '../support/locker-instances.js';

let emulator: Cu16Emulator;
let first: TestWorld;
let second: TestWorld;
const worlds: TestWorld[] = [];
const emulators: Cu16Emulator[] = [];

beforeEach(async () => {
  ({ emulator, first, second } = await twoInstancesOfSmallBox());
  worlds.push(first, second);
  emulators.push(emulator);
});

afterAll(async () => {
  for (const world of worlds) {
    await world.dokubox.lockers.stop();
    await world.dokubox.close();
  }
  for (const each of emulators) await each.stop();
});

/** Resolves once `done` holds, checked after each request the (new) driver sends to the board. */
function until(world: TestWorld, done: () => Promise<boolean>): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = async (): Promise<void> => {
      await world.dokubox.lockers.lifecycles.get('small')?.settled();
      if (await done()) {
        emulator.off('request', listener);
        resolve();
      }
    };
    const listener = (): void => void check();
    emulator.on('request', listener);
    void check();
  });
}

const untilState = (world: TestWorld, pickupId: string, state: string): Promise<void> => until(world, async () => (await world.dokubox.store.get(pickupId))?.state === state);

async function openForLoading(world: TestWorld): Promise<{ pickupId: string; compartment: string; serialNumber: string }> {
  const input = notice({ boxId: 'small' });
  const created = (await (await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input })).json()) as { pickup: { id: string; compartment: string } };
  const res = await world.request('POST', '/v1/boxes/small/loadings', { key: KEYS.staff, body: { serialNumber: input.documents[0]!.serialNumber } });
  expect(await res.json()).toMatchObject({ door: 'open' });
  return { pickupId: created.pickup.id, compartment: created.pickup.compartment, serialNumber: input.documents[0]!.serialNumber };
}

describe('an instance that stops during a door operation', () => {
  it('leaves a door open that the next instance watches: closing it loads the pickup', async () => {
    const { pickupId, compartment } = await openForLoading(first);
    await first.dokubox.lockers.stop();
    const connected = once(emulator, 'connection');
    await second.dokubox.lockers.start();
    await connected;
    await second.dokubox.lockers.lifecycles.get('small')?.settled();
    emulator.insertItem(compartment);
    emulator.closeDoor(compartment);
    await untilState(second, pickupId, 'loaded');
    expect(await second.dokubox.alarms.open('small')).not.toContainEqual(expect.objectContaining({ kind: 'inventory_mismatch' }));
  });

  it('finishes an operation whose door was closed while no instance watched, when the sensor shows it happened', async () => {
    const { pickupId, compartment } = await openForLoading(first);
    emulator.insertItem(compartment);
    await first.dokubox.lockers.stop();
    emulator.closeDoor(compartment);
    await second.dokubox.lockers.start();
    await untilState(second, pickupId, 'loaded');
    expect(await second.dokubox.alarms.open('small')).not.toContainEqual(expect.objectContaining({ kind: 'inventory_mismatch' }));
  });

  it('drops an operation whose door was closed without its effect: the pickup stays reserved and staff load it again', async () => {
    const { pickupId, compartment, serialNumber } = await openForLoading(first);
    expect(await first.dokubox.service.doorOperations('small')).toHaveProperty('size', 1);
    await first.dokubox.lockers.stop();
    emulator.closeDoor(compartment);
    await second.dokubox.lockers.start();
    // The record of the operation goes once the new driver has seen the board; the pickup is as it was.
    await until(second, async () => (await second.dokubox.service.doorOperations('small')).size === 0);
    expect((await second.dokubox.store.get(pickupId))?.state).toBe('reserved');
    const again = await second.request('POST', '/v1/boxes/small/loadings', { key: KEYS.staff, body: { serialNumber } });
    expect(await again.json()).toMatchObject({ pickupId, door: 'open' });
  });
});
