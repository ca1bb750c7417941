import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, parsePasswordHash, PersonAccounts } from '../../src/accounts/accounts.js';
import { PersonSessions } from '../../src/accounts/sessions.js';
import type { DokuboxError } from '../../src/core/errors.js';
import { kioskRedis, type KioskRedis } from '../support/kiosk-redis.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T09:00:00Z');
const MD = 'magdeburg-abh';
const PW = 'correct horse battery';

let store: KioskRedis;
let accounts: PersonAccounts;
let sessions: PersonSessions;

const problem = async (run: () => Promise<unknown>): Promise<DokuboxError> => (await run().then(() => undefined, (e: unknown) => e)) as DokuboxError;

beforeAll(async () => {
  store = kioskRedis('accounts');
  accounts = new PersonAccounts(store.redis, store.ns);
  sessions = new PersonSessions(store.redis, store.ns);
  await accounts.create({ username: 'a.admin', authority: MD, role: 'admin', password: PW, name: 'A. Admin' }, T0);
  await accounts.create({ username: 'c.clerk', authority: MD, role: 'clerk', password: PW }, T0);
});

afterAll(async () => {
  await store?.close();
});

describe('passwords', () => {
  it('stores only a self-describing scrypt hash (N=2^15, r=8, p=1, 16-byte salt, 64-byte key)', async () => {
    const json = (await store.redis.hget(`${store.ns}:accounts:authority:${MD}`, 'a.admin')) ?? '';
    const stored = JSON.parse(json) as { password: string };
    expect(stored.password).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{86}$/);
    expect(json).not.toContain(PW);
    const parsed = parsePasswordHash(stored.password);
    expect(parsed?.salt.length).toBe(16);
    expect(parsed?.key.length).toBe(64);
    expect(parsed?.N).toBe(32768);
  });

  it('salts every hash differently', async () => {
    expect(await hashPassword(PW)).not.toBe(await hashPassword(PW));
  });

  it('never returns the hash from get, list or verify', async () => {
    const seen = JSON.stringify([await accounts.get('a.admin'), await accounts.list(MD), await accounts.verify('a.admin', PW, T0)]);
    expect(seen).not.toContain('scrypt');
    expect(seen).not.toContain(PW);
  });

  it('refuses parameters a planted hash could use to cost minutes or gigabytes', () => {
    expect(parsePasswordHash('$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(86))).toBeUndefined();
    expect(parsePasswordHash('scrypt$16384$8$1$abc$def')).toBeUndefined();
  });
});

describe('creating accounts', () => {
  it('lowercases the username and keeps authority, role, name and creation time', async () => {
    const created = await accounts.create({ username: '  B.Clerk ', authority: MD, role: 'clerk', password: 'a long enough secret' }, T0 + 5);
    expect(created).toEqual({ username: 'b.clerk', authority: MD, role: 'clerk', createdAt: T0 + 5 });
    expect(await accounts.get('B.CLERK')).toEqual(created);
  });

  it('refuses bad usernames, roles, names and passwords, naming the field', async () => {
    const base = { authority: MD, role: 'clerk' as const, password: 'a long enough secret' };
    expect((await problem(() => accounts.create({ ...base, username: 'ab' }, T0))).field).toBe('username');
    expect((await problem(() => accounts.create({ ...base, username: 'x'.repeat(65) }, T0))).field).toBe('username');
    expect((await problem(() => accounts.create({ ...base, username: 'with space' }, T0))).field).toBe('username');
    expect((await problem(() => accounts.create({ ...base, username: 'colon:name' }, T0))).field).toBe('username');
    expect((await problem(() => accounts.create({ ...base, username: 'role.bad', role: 'staff' as never }, T0))).field).toBe('role');
    expect((await problem(() => accounts.create({ ...base, username: 'name.bad', name: 'a\nb' }, T0))).field).toBe('name');
    const short = await problem(() => accounts.create({ ...base, username: 'pw.short', password: 'elevenchars' }, T0));
    expect([short.code, short.field, short.message]).toEqual(['VALIDATION_FAILED', 'password', 'The password must have at least 12 characters.']);
    const own = await problem(() => accounts.create({ ...base, username: 'pw.own', password: 'my name is PW.OWN!' }, T0));
    expect([own.field, own.message]).toEqual(['password', 'The password must not contain the username.']);
    expect((await problem(() => accounts.create({ ...base, username: 'pw.long', password: 'x'.repeat(257) }, T0))).field).toBe('password');
    expect(await accounts.get('pw.short')).toBeUndefined();
  });

  it('keeps usernames unique across authorities', async () => {
    const taken = await problem(() => accounts.create({ username: 'c.clerk', authority: 'bochum-abh', role: 'clerk', password: 'another secret pw' }, T0));
    expect([taken.code, taken.status, taken.field]).toEqual(['ACCOUNT_CONFLICT', 409, 'username']);
    expect(await accounts.list('bochum-abh')).toEqual([]);
  });

  it('creates a first admin only when the authority has none (onlyIfNoAdmin)', async () => {
    const refused = await problem(() => accounts.create({ username: 'second.admin', authority: MD, role: 'admin', password: PW }, T0, { onlyIfNoAdmin: true }));
    expect(refused.code).toBe('ACCOUNT_CONFLICT');
    await accounts.create({ username: 'first.admin', authority: 'dresden-abh', role: 'admin', password: PW }, T0, { onlyIfNoAdmin: true });
    expect((await accounts.list('dresden-abh')).map((a) => a.role)).toEqual(['admin']);
  });

  it('lists the accounts of one authority, sorted by username', async () => {
    expect((await accounts.list(MD)).map((a) => a.username)).toEqual(['a.admin', 'b.clerk', 'c.clerk']);
  });
});

describe('changing accounts', () => {
  it('changes role, disables and enables; unknown usernames are not found', async () => {
    await accounts.create({ username: 'd.change', authority: MD, role: 'clerk', password: PW }, T0);
    expect((await accounts.setRole('d.change', 'admin')).role).toBe('admin');
    expect((await accounts.disable('d.change')).disabled).toBe(true);
    expect((await accounts.enable('d.change')).disabled).toBeUndefined();
    expect((await problem(() => accounts.setRole('nobody', 'admin'))).code).toBe('NOT_FOUND');
    expect((await problem(() => accounts.setRole('d.change', 'root' as never))).field).toBe('role');
    expect((await problem(() => accounts.disable('no body'))).field).toBe('username');
    await accounts.setRole('d.change', 'clerk');
  });

  it('refuses to demote or disable the last enabled admin of an authority', async () => {
    await accounts.create({ username: 'solo.admin', authority: 'leipzig-abh', role: 'admin', password: PW }, T0);
    expect((await problem(() => accounts.setRole('solo.admin', 'clerk'))).code).toBe('ACCOUNT_CONFLICT');
    expect((await problem(() => accounts.disable('solo.admin'))).code).toBe('ACCOUNT_CONFLICT');
    await accounts.create({ username: 'other.admin', authority: 'leipzig-abh', role: 'admin', password: PW }, T0);
    expect((await accounts.disable('solo.admin')).disabled).toBe(true);
  });

  it('replaces the password (checked like a new one)', async () => {
    await accounts.create({ username: 'e.pass', authority: MD, role: 'clerk', password: PW }, T0);
    expect((await problem(() => accounts.setPassword('e.pass', 'short'))).field).toBe('password');
    expect((await problem(() => accounts.setPassword('e.pass', 'xx-e.pass-xx-long'))).field).toBe('password');
    expect((await problem(() => accounts.setPassword('nobody', 'a new long password'))).code).toBe('NOT_FOUND');
    await accounts.setPassword('e.pass', 'a new long password');
    expect(await accounts.verify('e.pass', PW, T0)).toEqual({ ok: false });
    expect(await accounts.verify('e.pass', 'a new long password', T0)).toMatchObject({ ok: true, account: { username: 'e.pass' } });
  });
});

describe('signing in (verify)', () => {
  it('accepts the right password with any case of the username, refuses a wrong one', async () => {
    expect(await accounts.verify('A.Admin', PW, T0)).toEqual({ ok: true, account: { username: 'a.admin', authority: MD, role: 'admin', name: 'A. Admin', createdAt: T0 } });
    expect(await accounts.verify('a.admin', `${PW}!`, T0)).toEqual({ ok: false });
    expect(await accounts.verify('unknown.person', PW, T0)).toEqual({ ok: false });
    expect(await accounts.verify('not a username', PW, T0)).toEqual({ ok: false });
    expect(await accounts.verify('a.admin', '', T0)).toEqual({ ok: false });
  });

  it('refuses a disabled account with the right password, like a wrong one', async () => {
    await accounts.create({ username: 'f.disabled', authority: MD, role: 'clerk', password: PW }, T0);
    await accounts.disable('f.disabled');
    expect(await accounts.verify('f.disabled', PW, T0)).toEqual({ ok: false });
    await accounts.enable('f.disabled');
    expect(await accounts.verify('f.disabled', PW, T0 + 1)).toMatchObject({ ok: true });
  });

  it('locks a username for 15 minutes at the fifth failure, then answers locked even for the right password', async () => {
    await accounts.create({ username: 'g.lock', authority: MD, role: 'clerk', password: PW }, T0);
    for (let i = 0; i < 4; i += 1) expect(await accounts.verify('g.lock', 'wrong password!', T0 + i)).toEqual({ ok: false });
    expect(await accounts.verify('g.lock', 'wrong password!', T0 + 10)).toEqual({ ok: false, locked: { until: T0 + 10 + 15 * MINUTE } });
    expect(await accounts.verify('g.lock', PW, T0 + 20)).toEqual({ ok: false, locked: { until: T0 + 10 + 15 * MINUTE } });
    expect(await accounts.verify('g.lock', PW, T0 + 10 + 15 * MINUTE)).toMatchObject({ ok: true });
  });

  it('locks unknown usernames alike, so a lock tells nothing about existence', async () => {
    for (let i = 0; i < 4; i += 1) expect(await accounts.verify('ghost.user', 'wrong password!', T0 + i)).toEqual({ ok: false });
    expect(await accounts.verify('ghost.user', 'wrong password!', T0 + 5)).toEqual({ ok: false, locked: { until: T0 + 5 + 15 * MINUTE } });
  });

  it('a new password lifts a lock', async () => {
    await accounts.create({ username: 'h.unlock', authority: MD, role: 'clerk', password: PW }, T0);
    for (let i = 0; i < 5; i += 1) await accounts.verify('h.unlock', 'wrong password!', T0);
    expect(await accounts.verify('h.unlock', PW, T0)).toMatchObject({ locked: {} });
    await accounts.setPassword('h.unlock', 'the replacement pw');
    expect(await accounts.verify('h.unlock', 'the replacement pw', T0)).toMatchObject({ ok: true });
  });

  it('lets no more than five of many parallel guesses be checked before the lock', async () => {
    await accounts.create({ username: 'i.parallel', authority: MD, role: 'clerk', password: PW }, T0);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => accounts.verify('i.parallel', i === 11 ? PW : `wrong password ${i}`, T0)));
    const checked = results.filter((r) => !('locked' in r) || r.locked === undefined);
    expect(checked.length).toBeLessThanOrEqual(4);
    expect(results.filter((r) => r.ok)).toHaveLength(0);
    expect(results.filter((r) => !r.ok && r.locked !== undefined).length).toBeGreaterThanOrEqual(8);
  });

  it('costs the same scrypt work for known, unknown and malformed usernames', async () => {
    const time = async (username: string): Promise<number> => {
      const runs: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const started = performance.now();
        await accounts.verify(username, 'wrong password!', T0 + 20 * 60 * MINUTE * (i + 1));
        runs.push(performance.now() - started);
      }
      return runs.sort((a, b) => a - b)[2] ?? 0;
    };
    const known = await time('c.clerk');
    const unknown = await time('nobody.here');
    const malformed = await time('no body here');
    // One scrypt with N=2^15 takes tens of milliseconds; a skipped one would make a path many times faster.
    expect(known).toBeGreaterThan(10);
    expect(unknown / known).toBeGreaterThan(0.33);
    expect(unknown / known).toBeLessThan(3);
    expect(malformed / known).toBeGreaterThan(0.33);
    expect(malformed / known).toBeLessThan(3);
  });
});

describe('sessions', () => {
  const clerk = { username: 'c.clerk', authority: MD, role: 'clerk' as const };

  it('stores only the SHA-256 of the token, with a CSRF token', async () => {
    const { token, session } = await sessions.start(clerk, T0);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.csrf).not.toBe(token);
    const keys = await store.keys();
    expect(keys.some((k) => k.includes(token))).toBe(false);
    expect(await sessions.get(token, T0 + 1)).toEqual({ ...clerk, csrf: session.csrf, createdAt: T0, lastSeen: T0 + 1 });
  });

  it('ends after 30 idle minutes; every use slides the idle time', async () => {
    const { token } = await sessions.start(clerk, T0);
    expect(await sessions.get(token, T0 + 29 * MINUTE)).toBeDefined();
    expect(await sessions.get(token, T0 + 58 * MINUTE)).toBeDefined();
    expect(await sessions.get(token, T0 + 88 * MINUTE)).toBeUndefined();
    // Deleted: an earlier clock does not bring it back.
    expect(await sessions.get(token, T0 + 60 * MINUTE)).toBeUndefined();
  });

  it('ends 8 hours after sign-in even when used all the time', async () => {
    const { token } = await sessions.start(clerk, T0);
    for (let m = 20; m < 8 * 60; m += 20) expect(await sessions.get(token, T0 + m * MINUTE), `minute ${m}`).toBeDefined();
    expect(await sessions.get(token, T0 + 8 * 60 * MINUTE)).toBeUndefined();
  });

  it('takes idle and absolute limits from its options', async () => {
    const short = new PersonSessions(store.redis, store.ns, { idleMs: MINUTE, absoluteMs: 3 * MINUTE });
    const { token } = await short.start(clerk, T0);
    expect(await short.get(token, T0 + 59_000)).toBeDefined();
    expect(await short.get(token, T0 + 59_000 + MINUTE)).toBeUndefined();
    const second = await short.start(clerk, T0);
    for (const s of [50, 100, 150]) expect(await short.get(second.token, T0 + s * 1000)).toBeDefined();
    expect(await short.get(second.token, T0 + 180_000)).toBeUndefined();
  });

  it('refuses unknown, malformed and missing tokens', async () => {
    expect(await sessions.get(undefined, T0)).toBeUndefined();
    expect(await sessions.get('', T0)).toBeUndefined();
    expect(await sessions.get('x'.repeat(43), T0)).toBeUndefined();
    expect(await sessions.get('not a token', T0)).toBeUndefined();
  });

  it('ends one session at sign-out and all of a person with endAllOf', async () => {
    const a = await sessions.start(clerk, T0);
    const b = await sessions.start(clerk, T0);
    const other = await sessions.start({ username: 'a.admin', authority: MD, role: 'admin' }, T0);
    expect(await sessions.end(a.token)).toBe(true);
    expect(await sessions.end(a.token)).toBe(false);
    expect(await sessions.get(a.token, T0)).toBeUndefined();
    expect(await sessions.get(b.token, T0)).toBeDefined();
    expect(await sessions.endAllOf('C.Clerk')).toBeGreaterThanOrEqual(1);
    expect(await sessions.get(b.token, T0)).toBeUndefined();
    expect(await sessions.get(other.token, T0)).toBeDefined();
    expect(await sessions.endAllOf('nobody')).toBe(0);
  });

  it('carries the account’s display name', async () => {
    const { token, session } = await sessions.start({ username: 'a.admin', authority: MD, role: 'admin', name: 'A. Admin' }, T0);
    expect(session.name).toBe('A. Admin');
    expect((await sessions.get(token, T0))?.name).toBe('A. Admin');
  });

  it('refuses the session of a disabled account and follows a changed role', async () => {
    await accounts.create({ username: 'j.session', authority: MD, role: 'clerk', password: PW }, T0);
    const { token } = await sessions.start({ username: 'j.session', authority: MD, role: 'clerk' }, T0);
    await accounts.setRole('j.session', 'admin');
    expect((await sessions.get(token, T0))?.role).toBe('admin');
    await accounts.setRole('j.session', 'clerk');
    await accounts.disable('j.session');
    expect(await sessions.get(token, T0)).toBeUndefined();
    await accounts.enable('j.session');
    expect(await sessions.get(token, T0)).toBeUndefined();
  });
});
