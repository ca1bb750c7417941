/**
 * Two service instances against one box: only the lease holder talks to the
 * lock boards, and a kiosk or staff request that reaches the other instance
 * is relayed to it over Redis, so it does not matter where a request lands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cu16Emulator } from '../../simulator/locker/cu16-emulator.js';
import { KEYS, notice, type TestWorld } from '../support/harness.js';
import { twoInstancesOfSmallBox } from '../support/locker-instances.js';

let holder: TestWorld;
let other: TestWorld;
let emulator: Cu16Emulator;

beforeAll(async () => {
  ({ emulator, first: holder, second: other } = await twoInstancesOfSmallBox());
  await other.dokubox.lockers.start();
});

afterAll(async () => {
  await other.dokubox.lockers.stop();
  await holder.dokubox.lockers.stop();
  await other.dokubox.close();
  await holder.close();
  await emulator.stop();
});

describe('several instances and one box', () => {
  it('opens the door through the lease holder when the request reaches the other instance', async () => {
    expect(emulator.connectionCount('gw1')).toBe(1);
    const input = notice({ boxId: 'small' });
    const created = (await (await other.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input })).json()) as { pickup: { id: string; compartment: string } };
    const res = await other.request('POST', '/v1/boxes/small/loadings', { key: KEYS.staff, body: { serialNumber: input.documents[0]!.serialNumber } });
    expect(await res.json()).toMatchObject({ pickupId: created.pickup.id, door: 'open' });
    expect(emulator.door(created.pickup.compartment)).toBe('open');
    expect(emulator.unlockCount(created.pickup.compartment)).toBe(1);
    expect(emulator.connectionCount('gw1')).toBe(1);
  });

  it('passes the holder’s refusal back to the caller', async () => {
    await holder.request('POST', '/v1/boxes/small/compartments/A4/defective', { key: KEYS.staff });
    const res = await other.request('POST', '/v1/boxes/small/compartments/A4/open', { key: KEYS.staff, body: { reason: 'checking the compartment' } });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('COMPARTMENT_UNAVAILABLE');
  });

  it('keeps a compartment marked defective through the other instance shut at the holder', async () => {
    const input = notice({ boxId: 'small' });
    const created = (await (await other.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input })).json()) as { pickup: { compartment: string } };
    await other.request('POST', `/v1/boxes/small/compartments/${created.pickup.compartment}/defective`, { key: KEYS.staff });
    const unlocks = emulator.unlockCount(created.pickup.compartment);
    const res = await other.request('POST', '/v1/boxes/small/loadings', { key: KEYS.staff, body: { serialNumber: input.documents[0]!.serialNumber } });
    expect(res.status).toBe(409);
    expect(emulator.unlockCount(created.pickup.compartment)).toBe(unlocks);
  });
});
