/**
 * The staff and kiosk endpoints driving a real lock board: the composition
 * root builds the Kerong adapter from the box file, takes the gateway lease
 * and talks to the CU16 emulator over TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cu16Emulator } from '../../simulator/locker/cu16-emulator.js';
import { createWorld, KEYS, notice, type TestWorld } from '../support/harness.js';

let world: TestWorld;
let emulator: Cu16Emulator;

beforeAll(async () => {
  emulator = new Cu16Emulator({
    gateways: [{ id: 'gw1' }],
    compartments: ['A1', 'A2', 'A3', 'A4'].map((id, lock) => ({ id, locker: { gateway: 'gw1', board: 0, lock } })),
  });
  const [gateway] = await emulator.start();
  world = await createWorld({
    env: {
      BOXES_DIR: 'tests/fixtures/boxes-locker',
      LOCKERS_ENABLED: 'true',
      LOCKER_ENDPOINTS: JSON.stringify({ 'small/gw1': `127.0.0.1:${gateway!.port}` }),
      LOCKER_LEASE_TTL_MS: '3000',
    },
  });
  const connected = new Promise<void>((resolve) => emulator.once('connection', () => resolve()));
  await world.dokubox.lockers.start();
  await connected;
});

afterAll(async () => {
  await world.dokubox.lockers.stop();
  await world.close();
  await emulator.stop();
});

describe('locker endpoints', () => {
  it('opens the reserved compartment for loading, then the kiosk opens it for the applicant', async () => {
    const input = notice({ boxId: 'small' });
    const created = (await (await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input })).json()) as { pickup: { id: string; compartment: string } };
    const loading = await world.request('POST', '/v1/boxes/small/loadings', { key: KEYS.staff, body: { serialNumber: input.documents[0]!.serialNumber } });
    expect(await loading.json()).toEqual({ pickupId: created.pickup.id, compartment: created.pickup.compartment, state: 'reserved', door: 'open' });
    expect(emulator.door(created.pickup.compartment)).toBe('open');

    emulator.insertItem(created.pickup.compartment);
    const lifecycle = world.dokubox.lockers.lifecycles.get('small')!;
    const loaded = new Promise<void>((resolve) => {
      const check = async () => {
        await lifecycle.settled();
        if ((await world.dokubox.store.get(created.pickup.id))?.state === 'loaded') {
          lifecycle.adapter.off('event', listener);
          resolve();
        }
      };
      const listener = () => void check();
      lifecycle.adapter.on('event', listener);
    });
    emulator.closeDoor(created.pickup.compartment);
    await loaded;

    await world.dokubox.service.markNotified(created.pickup.id);
    const code = world.dokubox.service.personalData((await world.dokubox.store.get(created.pickup.id))!).code!;
    const wrong = await world.request('POST', '/v1/boxes/small/pickups', { key: KEYS.kiosk, body: { code, dateOfBirth: '1900-01-01' } });
    expect(wrong.status).toBe(401);
    const pickup = await world.request('POST', '/v1/boxes/small/pickups', { key: KEYS.kiosk, body: { code, dateOfBirth: input.person.dateOfBirth } });
    expect(await pickup.json()).toEqual({ pickupId: created.pickup.id, compartment: created.pickup.compartment, door: 'open' });
    expect(emulator.unlockCount(created.pickup.compartment)).toBe(2);
  });

  it('lets staff open a compartment and lists alarms', async () => {
    const open = await world.request('POST', '/v1/boxes/small/compartments/A4/open', { key: KEYS.staff, body: { reason: 'checking the compartment' } });
    expect(await open.json()).toEqual({ compartment: 'A4', pickupId: null, door: 'open' });
    const unknown = await world.request('POST', '/v1/boxes/small/compartments/Z9/open', { key: KEYS.staff, body: { reason: 'checking the compartment' } });
    expect(unknown.status).toBe(404);
    const alarms = await world.request('GET', '/v1/boxes/small/alarms', { key: KEYS.staff });
    expect(alarms.status).toBe(200);
    expect(((await alarms.json()) as { alarms: unknown[] }).alarms).toBeInstanceOf(Array);
  });

  it('opens a compartment remotely only with a reason, and audits the opening', async () => {
    const before = emulator.unlockCount('A2');
    expect((await world.request('POST', '/v1/boxes/small/compartments/A2/open', { key: KEYS.staff })).status).toBe(415);
    for (const body of [{}, { reason: 'why' }, { reason: 'x'.repeat(201) }, { reason: 'checking the compartment', extra: 1 }]) {
      const res = await world.request('POST', '/v1/boxes/small/compartments/A2/open', { key: KEYS.staff, body });
      expect(res.status).toBe(400);
    }
    expect(emulator.unlockCount('A2')).toBe(before);
    const open = await world.request('POST', '/v1/boxes/small/compartments/A2/open', { key: KEYS.staff, body: { reason: 'applicant says the door jammed' } });
    expect(open.status).toBe(200);
    expect(emulator.unlockCount('A2')).toBe(before + 1);
    const audit = (await (await world.request('GET', '/v1/audit?boxId=small&limit=5', { key: KEYS.staff })).json()) as { entries: Record<string, unknown>[] };
    expect(audit.entries[0]).toMatchObject({ actor: 'staff:staff-1', action: 'compartment_opened', boxId: 'small', compartment: 'A2', reason: 'applicant says the door jammed' });
    expect(audit.entries[0]?.pickupId).toBeUndefined();
  });

  it('keeps the lock board in step when staff mark a compartment defective and repaired', async () => {
    const adapter = world.dokubox.lockers.lifecycles.get('small')!.adapter;
    const enabled = () => adapter.snapshot().find((s) => s.compartmentId === 'A3')?.enabled;
    expect((await world.request('POST', '/v1/boxes/small/compartments/A3/defective', { key: KEYS.staff })).status).toBe(204);
    expect(enabled()).toBe(false);
    expect((await world.request('POST', '/v1/boxes/small/compartments/A3/open', { key: KEYS.staff, body: { reason: 'checking the compartment' } })).status).toBe(409);
    expect((await world.request('POST', '/v1/boxes/small/compartments/A3/repaired', { key: KEYS.staff })).status).toBe(204);
    expect(enabled()).toBe(true);
  });

  it('rejects bad input on the kiosk pickup endpoint', async () => {
    const res = await world.request('POST', '/v1/boxes/small/pickups', { key: KEYS.kiosk, body: { code: '12' } });
    expect(res.status).toBe(400);
  });
});
