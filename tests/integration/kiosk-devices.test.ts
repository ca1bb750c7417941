import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENROLLMENT_ALPHABET, KioskDevices, normalizeEnrollmentCode } from '../../src/kiosk/devices.js';
import { kioskRedis, type KioskRedis } from '../support/kiosk-redis.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T09:00:00Z');
const STAFF = { boxId: 'md-foyer', authority: 'magdeburg-abh', createdBy: 'staff-1' };

let store: KioskRedis;
let devices: KioskDevices;
let clients = 0;
/** A fresh client address per test, so that the per-client limit of one test does not touch another. */
const client = (): string => `192.0.2.${(clients += 1)}`;

beforeAll(() => {
  store = kioskRedis('devices');
  devices = new KioskDevices(store.redis, store.ns);
});

afterAll(async () => {
  await store?.close();
});

async function enrolled(code: string, now: number, from = client()) {
  const result = await devices.redeem(code, now, from);
  if (result.outcome !== 'enrolled') throw new Error(`expected enrolled, got ${result.outcome}`);
  return result;
}

describe('enrollment codes', () => {
  it('creates a ten-character code from the unambiguous alphabet, shown in two groups, valid 15 minutes', async () => {
    const { code, expiresAt } = await devices.createEnrollment(STAFF, T0);
    expect(code).toMatch(/^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$/);
    expect(ENROLLMENT_ALPHABET).not.toMatch(/[01OIL]/);
    expect(expiresAt).toBe(T0 + 15 * MINUTE);
    const dump = JSON.stringify(await Promise.all((await store.keys()).map(async (k) => [k, (await store.redis.type(k)) === 'string' ? await store.redis.get(k) : ''])));
    expect(dump).not.toContain(normalizeEnrollmentCode(code));
  });

  it('enrolls a device with the code once, with or without the dash and in any case', async () => {
    const { code } = await devices.createEnrollment(STAFF, T0);
    const { token, device } = await enrolled(code.replace('-', '').toLowerCase(), T0 + MINUTE);
    expect(device).toEqual({ id: expect.stringMatching(/^kiosk-[0-9a-f]{8}$/), boxId: 'md-foyer', authority: 'magdeburg-abh', enrolledAt: '2026-03-02T09:01:00.000Z', enrolledBy: 'staff-1' });
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(await devices.redeem(code, T0 + MINUTE, client())).toEqual({ outcome: 'invalid' });
    expect(await devices.identify(token)).toEqual(device);
  });

  it('lets exactly one of two instances redeem a code they receive at the same time', async () => {
    const other = new Redis(store.url);
    try {
      const second = new KioskDevices(other, store.ns);
      for (let i = 0; i < 10; i += 1) {
        const { code } = await devices.createEnrollment(STAFF, T0);
        const results = await Promise.all([devices.redeem(code, T0 + 1000, client()), second.redeem(code, T0 + 1000, client())]);
        expect(results.map((r) => r.outcome).sort()).toEqual(['enrolled', 'invalid']);
      }
    } finally {
      await other.quit();
    }
  });

  it('refuses a code from the moment it expires', async () => {
    const a = await devices.createEnrollment(STAFF, T0);
    const b = await devices.createEnrollment(STAFF, T0);
    await enrolled(a.code, a.expiresAt - 1);
    expect(await devices.redeem(b.code, b.expiresAt, client())).toEqual({ outcome: 'invalid' });
    expect(await devices.redeem(b.code, b.expiresAt - 1, client())).toEqual({ outcome: 'invalid' });
  });
});

describe('guessing enrollment codes', () => {
  it('answers too many attempts after 20 failed redemptions of one client within 15 minutes, even for a valid code', async () => {
    const guesser = client();
    for (let i = 0; i < 20; i += 1) expect(await devices.redeem(`AAAAA-AAA${i}`, T0 + i * 1000, guesser)).toEqual({ outcome: 'invalid' });
    const { code } = await devices.createEnrollment(STAFF, T0 + 30_000);
    expect(await devices.redeem(code, T0 + 30_000, guesser)).toEqual({ outcome: 'too_many_attempts', retryAfterMs: 15 * MINUTE - 30_000 });
    // Another client is not affected, and the code survived the refusal.
    await enrolled(code, T0 + 31_000);
    // Once the first failure left the window, the client may try again.
    const again = await devices.createEnrollment(STAFF, T0 + 15 * MINUTE);
    await enrolled(again.code, T0 + 15 * MINUTE, guesser);
  });

  it('caps failed redemptions of all clients together', async () => {
    const own = kioskRedis('devices-total');
    try {
      const capped = new KioskDevices(own.redis, own.ns, { maxFailuresTotal: 30 });
      for (let i = 0; i < 30; i += 1) expect((await capped.redeem('WRONG-CODE0', T0 + i, `198.51.100.${i}`)).outcome).toBe('invalid');
      const { code } = await capped.createEnrollment(STAFF, T0 + 100);
      expect(await capped.redeem(code, T0 + 100, '203.0.113.7')).toEqual({ outcome: 'too_many_attempts', retryAfterMs: 15 * MINUTE - 100 });
      expect((await capped.redeem(code, T0 + 15 * MINUTE, '203.0.113.7')).outcome).toBe('enrolled');
      // Neither the addresses nor the codes appear in keys.
      expect((await own.keys()).join(' ')).not.toMatch(/198\.51|203\.0|WRONG/);
    } finally {
      await own.close();
    }
  });
});

describe('device sessions', () => {
  it('identifies a device by its token, until it is revoked', async () => {
    const { code } = await devices.createEnrollment({ ...STAFF, boxId: 'bo-rathaus' }, T0);
    const { token, device } = await enrolled(code, T0);
    expect(await devices.identify(token)).toEqual(device);
    expect(await devices.identify(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await devices.identify('')).toBeUndefined();
    expect((await store.keys()).join(' ')).not.toContain(token);
    expect(await devices.list('bo-rathaus')).toEqual([device]);

    expect(await devices.revoke(device.id)).toBe(true);
    expect(await devices.identify(token)).toBeUndefined();
    expect(await devices.list('bo-rathaus')).toEqual([]);
    expect(await devices.get(device.id)).toBeUndefined();
    expect(await devices.revoke(device.id)).toBe(false);
  });

  it('lists the devices of a box, oldest first', async () => {
    const box = { ...STAFF, boxId: 'list-box' };
    const first = await enrolled((await devices.createEnrollment(box, T0)).code, T0 + 1000);
    const second = await enrolled((await devices.createEnrollment(box, T0)).code, T0 + 2000);
    expect(await devices.list('list-box')).toEqual([first.device, second.device]);
    expect(await devices.list('empty-box')).toEqual([]);
  });
});
