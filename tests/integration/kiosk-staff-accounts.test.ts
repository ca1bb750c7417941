import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DokuboxError } from '../../src/core/errors.js';
import { StaffAccounts } from '../../src/kiosk/staff-accounts.js';
import { kioskRedis, type KioskRedis } from '../support/kiosk-redis.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T09:00:00Z');
const MD = 'magdeburg-abh';

let store: KioskRedis;
let staff: StaffAccounts;

beforeAll(async () => {
  store = kioskRedis('staff');
  staff = new StaffAccounts(store.redis, store.ns);
  await staff.setPin(MD, 'MD-0042', '482915', 'A. Schulz');
  await staff.setPin(MD, 'MD-0043', '1234');
  await staff.setPin('bochum-abh', 'MD-0042', '999999');
});

afterAll(async () => {
  await store?.close();
});

describe('PINs', () => {
  it('stores only a scrypt hash of the PIN', async () => {
    const stored = JSON.parse((await store.redis.hget(`${store.ns}:kiosk:staff:${MD}`, 'MD-0042')) ?? '{}') as { pin: string; name: string };
    expect(stored.pin).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/=]{44}$/);
    expect(JSON.stringify(stored)).not.toContain('482915');
    expect(stored.name).toBe('A. Schulz');
  });

  it('refuses a planted hash whose parameters would cost minutes or gigabytes, without computing it', async () => {
    const key = Buffer.alloc(32).toString('base64');
    const salt = Buffer.alloc(16).toString('base64');
    await store.redis.hset(`${store.ns}:kiosk:staff:${MD}`, 'MD-PLANTED', JSON.stringify({ pin: `scrypt$16777216$64$64$${salt}$${key}` }));
    expect(await staff.verify(MD, 'MD-PLANTED', '1234', T0)).toEqual({ ok: false });
  });

  it('refuses malformed staff numbers, PINs and names', async () => {
    const problems = async (run: () => Promise<void>) => (await run().catch((e: unknown) => e)) as DokuboxError;
    expect((await problems(() => staff.setPin(MD, 'MD 42', '1234'))).field).toBe('staffNumber');
    expect((await problems(() => staff.setPin(MD, 'x'.repeat(33), '1234'))).field).toBe('staffNumber');
    expect((await problems(() => staff.setPin(MD, 'MD-1', '123'))).field).toBe('pin');
    expect((await problems(() => staff.setPin(MD, 'MD-1', '123456789'))).field).toBe('pin');
    expect((await problems(() => staff.setPin(MD, 'MD-1', '12a4'))).code).toBe('VALIDATION_FAILED');
    expect((await problems(() => staff.setPin(MD, 'MD-1', '1234', 'line\nbreak'))).field).toBe('name');
  });

  it('signs in with the right PIN, within the staff number’s authority only', async () => {
    expect(await staff.verify(MD, 'MD-0042', '482915', T0)).toEqual({ ok: true, staff: { id: 'MD-0042', authority: MD, name: 'A. Schulz' } });
    expect(await staff.verify(MD, 'MD-0043', '1234', T0)).toEqual({ ok: true, staff: { id: 'MD-0043', authority: MD } });
    expect(await staff.verify('bochum-abh', 'MD-0042', '482915', T0)).toEqual({ ok: false });
    expect(await staff.verify(MD, 'MD-0042', '999999', T0)).toEqual({ ok: false });
  });

  it('locks a staff number for 15 minutes at the fifth failure and answers locked without checking, even the right PIN', async () => {
    await staff.setPin(MD, 'LOCK-1', '2468');
    for (let i = 0; i < 4; i += 1) expect(await staff.verify(MD, 'LOCK-1', '0000', T0 + i)).toEqual({ ok: false });
    expect(await staff.verify(MD, 'LOCK-1', '0000', T0 + 10)).toEqual({ ok: false, locked: { until: T0 + 10 + 15 * MINUTE } });
    expect(await staff.verify(MD, 'LOCK-1', '2468', T0 + 20)).toEqual({ ok: false, locked: { until: T0 + 10 + 15 * MINUTE } });
    expect(await staff.verify(MD, 'LOCK-1', '2468', T0 + 10 + 15 * MINUTE)).toMatchObject({ ok: true });
  });

  it('forgets failures after a successful sign-in, and a new PIN lifts a lock', async () => {
    await staff.setPin(MD, 'LOCK-2', '1357');
    for (let i = 0; i < 4; i += 1) await staff.verify(MD, 'LOCK-2', '0000', T0 + i);
    expect((await staff.verify(MD, 'LOCK-2', '1357', T0 + 5)).ok).toBe(true);
    for (let i = 0; i < 4; i += 1) expect(await staff.verify(MD, 'LOCK-2', '0000', T0 + 10 + i)).toEqual({ ok: false });
    expect((await staff.verify(MD, 'LOCK-2', '0000', T0 + 20)).ok).toBe(false);
    expect(await staff.verify(MD, 'LOCK-2', '1357', T0 + 21)).toMatchObject({ locked: {} });
    await staff.setPin(MD, 'LOCK-2', '97531');
    expect((await staff.verify(MD, 'LOCK-2', '97531', T0 + 22)).ok).toBe(true);
  });

  it('lets parallel guesses past the limit only as many as the limit allows', async () => {
    await staff.setPin(MD, 'LOCK-3', '8642');
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => staff.verify(MD, 'LOCK-3', String(1000 + i), T0)));
    expect(answers.filter((a) => !a.ok && a.locked === undefined)).toHaveLength(4);
    expect(answers.filter((a) => !a.ok && a.locked !== undefined)).toHaveLength(8);
  });

  it('answers an unknown staff number like a wrong PIN, locks it alike and spends the same scrypt work', async () => {
    for (let i = 0; i < 4; i += 1) expect(await staff.verify(MD, 'NOBODY-7', '1234', T0 + i)).toEqual({ ok: false });
    expect(await staff.verify(MD, 'NOBODY-7', '1234', T0 + 10)).toEqual({ ok: false, locked: { until: T0 + 10 + 15 * MINUTE } });
    expect(await staff.verify(MD, 'not a number!', '1234', T0)).toEqual({ ok: false });
    const fastest = async (staffNumber: string): Promise<number> => {
      let best = Infinity;
      for (let i = 0; i < 5; i += 1) {
        const start = performance.now();
        await staff.verify(MD, staffNumber, '0000', T0 + 24 * 60 * MINUTE * (i + 2));
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    const known = await fastest('MD-0043');
    const unknown = await fastest('NOBODY-8');
    // scrypt with N=16384 takes tens of milliseconds; without it an unknown number would answer in about one.
    expect(unknown).toBeGreaterThan(known * 0.5);
  });

  it('lists staff numbers and names only, and forgets removed staff', async () => {
    await staff.setPin('list-abh', 'B-2', '1111', 'B. Berg');
    await staff.setPin('list-abh', 'A-1', '2222');
    expect(await staff.list('list-abh')).toEqual([{ staffNumber: 'A-1' }, { staffNumber: 'B-2', name: 'B. Berg' }]);
    expect(await staff.remove('list-abh', 'A-1')).toBe(true);
    expect(await staff.remove('list-abh', 'A-1')).toBe(false);
    expect(await staff.list('list-abh')).toEqual([{ staffNumber: 'B-2', name: 'B. Berg' }]);
    expect(await staff.verify('list-abh', 'A-1', '2222', T0)).toEqual({ ok: false });
  });
});

describe('staff sessions at a kiosk', () => {
  it('identifies the member of staff at the device that started the session', async () => {
    const token = await staff.startSession({ staffId: 'MD-0042', authority: MD, deviceId: 'kiosk-0000000a' }, T0);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(await staff.session(token, 'kiosk-0000000a', T0 + MINUTE)).toEqual({ id: 'MD-0042', authority: MD, name: 'A. Schulz' });
    expect((await store.keys()).join(' ')).not.toContain(token);
    await staff.endSession(token);
    expect(await staff.session(token, 'kiosk-0000000a', T0 + MINUTE)).toBeUndefined();
  });

  it('refuses a session token presented by another device and ends that session', async () => {
    const token = await staff.startSession({ staffId: 'MD-0042', authority: MD, deviceId: 'kiosk-0000000a' }, T0);
    expect(await staff.session(token, 'kiosk-0000000b', T0 + 1000)).toBeUndefined();
    expect(await staff.session(token, 'kiosk-0000000a', T0 + 2000)).toBeUndefined();
  });

  it('ends a session after 10 idle minutes; every use extends it', async () => {
    const token = await staff.startSession({ staffId: 'MD-0043', authority: MD, deviceId: 'kiosk-0000000a' }, T0);
    expect(await staff.session(token, 'kiosk-0000000a', T0 + 9 * MINUTE)).toBeDefined();
    expect(await staff.session(token, 'kiosk-0000000a', T0 + 18 * MINUTE)).toBeDefined();
    expect(await staff.session(token, 'kiosk-0000000a', T0 + 28 * MINUTE - 1)).toBeDefined();
    expect(await staff.session(token, 'kiosk-0000000a', T0 + 38 * MINUTE - 1)).toBeUndefined();
    const idle = await staff.startSession({ staffId: 'MD-0043', authority: MD, deviceId: 'kiosk-0000000a' }, T0);
    expect(await staff.session(idle, 'kiosk-0000000a', T0 + 10 * MINUTE)).toBeUndefined();
  });

  it('ends the sessions of removed staff', async () => {
    await staff.setPin(MD, 'GONE-1', '4321');
    const token = await staff.startSession({ staffId: 'GONE-1', authority: MD, deviceId: 'kiosk-0000000a' }, T0);
    await staff.remove(MD, 'GONE-1');
    expect(await staff.session(token, 'kiosk-0000000a', T0 + 1000)).toBeUndefined();
  });
});
