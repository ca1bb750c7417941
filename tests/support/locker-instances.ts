/**
 * Two service instances against one small box (tests/fixtures/boxes-locker)
 * on a CU16 emulator: the first drives it (its lockers started and
 * connected), the second is ready to take over or to relay to the first.
 */
import { once } from 'node:events';
import { Cu16Emulator } from '../../simulator/locker/cu16-emulator.js';
import { createWorld, testConfig, type TestWorld } from './harness.js';

export async function twoInstancesOfSmallBox(): Promise<{ emulator: Cu16Emulator; first: TestWorld; second: TestWorld }> {
  const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }], compartments: ['A1', 'A2', 'A3', 'A4'].map((id, lock) => ({ id, locker: { gateway: 'gw1', board: 0, lock } })) });
  const [gateway] = await emulator.start();
  const config = testConfig({
    BOXES_DIR: 'tests/fixtures/boxes-locker',
    LOCKERS_ENABLED: 'true',
    LOCKER_ENDPOINTS: JSON.stringify({ 'small/gw1': `127.0.0.1:${gateway!.port}` }),
    LOCKER_LEASE_TTL_MS: '5000',
  });
  const first = await createWorld({ config });
  const second = await createWorld({ config });
  const connected = once(emulator, 'connection');
  await first.dokubox.lockers.start();
  await connected;
  return { emulator, first, second };
}
