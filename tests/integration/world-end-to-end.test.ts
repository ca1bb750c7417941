/**
 * The whole chain as it runs in a foyer, every part over its real wire
 * protocol: a notice over SOAP, staff loading through the CU16 lock board,
 * the code by SMS into the simulated phone, the applicant at the kiosk, and
 * every step reported back to the case system in order.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCallbackServer, type CallbackServer } from '../../simulator/case-system/callback-server.js';
import { CaseSystemSimulator } from '../../simulator/case-system/client.js';
import { sampleNotice } from '../../simulator/case-system/data.js';
import { Cu16Emulator } from '../../simulator/locker/cu16-emulator.js';
import { startSmsGatewaySimulator, type SmsGatewaySimulator } from '../../simulator/sms-gateway/index.js';
import { AUTHORITY, createWorld, KEYS, type TestWorld } from '../support/harness.js';

let world: TestWorld;
let callback: CallbackServer;
let emulator: Cu16Emulator;
let phones: SmsGatewaySimulator;
let base: string;

beforeAll(async () => {
  callback = await startCallbackServer();
  phones = await startSmsGatewaySimulator();
  emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }], compartments: ['A1', 'A2', 'A3', 'A4'].map((id, lock) => ({ id, locker: { gateway: 'gw1', board: 0, lock } })) });
  const [gateway] = await emulator.start();
  world = await createWorld({
    start: '2026-03-02T09:00:00Z',
    env: {
      PORT: '0',
      BOXES_DIR: 'tests/fixtures/boxes-locker',
      LOCKERS_ENABLED: 'true',
      LOCKER_ENDPOINTS: JSON.stringify({ 'small/gw1': `127.0.0.1:${gateway!.port}` }),
      CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'vois-1', authority: AUTHORITY, basic: { username: 'vois', passwordSha256: createHash('sha256').update('correct horse battery').digest('hex') } }]),
      CASE_SYSTEM_CALLBACKS: JSON.stringify({ [AUTHORITY]: { url: callback.url } }),
      SMS_GATEWAY: 'dev',
      SMS_DEV_URL: phones.seven.url,
    },
  });
  base = (await world.dokubox.listen()).url;
  const connected = once(emulator, 'connection');
  await world.dokubox.lockers.start();
  await connected;
  world.dokubox.reports.start();
});

afterAll(async () => {
  await world.dokubox.lockers.stop();
  await world.close();
  await Promise.all([callback.close(), phones.close(), emulator.stop()]);
});

/** Resolves once the pickup is in `state`, re-checked after every locker event has been handled. */
function untilState(pickupId: string, state: string): Promise<void> {
  const lifecycle = world.dokubox.lockers.lifecycles.get('small')!;
  return new Promise<void>((resolve) => {
    const listener = async () => {
      await lifecycle.settled();
      if ((await world.dokubox.store.get(pickupId))?.state === state) {
        lifecycle.adapter.off('event', listener);
        resolve();
      }
    };
    lifecycle.adapter.on('event', listener);
  });
}

describe('a pickup through every real protocol', () => {
  it('goes from SOAP notice to collected, with the code only in the SMS and every step reported', async () => {
    const notice = { ...sampleNotice(1, { authority: AUTHORITY, boxId: 'small' }), mobile: '+4915112345678' };
    const caseSystem = new CaseSystemSimulator(base, { basic: { username: 'vois', password: 'correct horse battery' } });
    const { pickupId } = await caseSystem.notify(notice);
    const compartment = (await world.dokubox.store.get(pickupId))!.compartment!;

    // Staff scan the document: the door opens; they put it in and close the door.
    const loading = await fetch(`${base}/v1/boxes/small/loadings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.staff}`, 'content-type': 'application/json' },
      body: JSON.stringify({ serialNumber: notice.documents[0]!.serialNumber }),
    });
    expect(loading.status).toBe(200);
    emulator.insertItem(compartment);
    const loaded = untilState(pickupId, 'loaded');
    emulator.closeDoor(compartment);
    await loaded;

    // The SMS goes out through the development gateway into the phone's inbox.
    const worker = world.dokubox.sms.start();
    const sent = once(worker, 'completed');
    await world.dokubox.events.drain();
    await sent;
    const [sms] = await phones.inbox.waitFor('+4915112345678');
    const code = /\b(\d{6})\b/.exec(sms!.text)?.[1];
    expect(code).toBeDefined();
    expect((await world.dokubox.store.get(pickupId))?.state).toBe('notified');

    // The applicant enters code and date of birth as the document prints it (an unknown day or month as XX); the door opens; they take the document.
    const [year, month, day] = notice.person.dateOfBirth.split('-');
    const pickup = await fetch(`${base}/v1/boxes/small/pickups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.kiosk}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code, dateOfBirth: `${day ?? 'XX'}.${month ?? 'XX'}.${year}` }),
    });
    expect(pickup.status).toBe(200);
    emulator.takeItem(compartment);
    const collected = untilState(pickupId, 'collected');
    emulator.closeDoor(compartment);
    await collected;

    await world.dokubox.events.drain();
    const reports = await callback.waitForReports(4);
    expect(reports.map((r) => r.status)).toEqual(['reserved', 'loaded', 'notified', 'collected']);
    expect(reports.at(-1)?.verificationMethod).toBeTruthy();
    const everything = JSON.stringify(reports) + world.logs.join('');
    for (const secret of [code!, notice.person.familyName, '15112345678']) expect(everything).not.toContain(secret);
  });
});
