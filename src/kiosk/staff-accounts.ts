/**
 * Staff sign-in at a kiosk: a staff number (typed by a badge scanner) and a
 * PIN of 4-8 digits, stored only as a scrypt hash. Failed sign-ins are
 * limited per staff number, also for numbers that do not exist, and an
 * unknown number costs the same scrypt work as a known one, so neither the
 * answer nor its timing tells which staff numbers exist. A signed-in member
 * of staff gets a session token bound to the kiosk device, with a sliding
 * expiry. Times are the caller's `now` (ms); TTLs only collect garbage.
 *
 * Keys (ns = the deployment's key prefix):
 *   ns:kiosk:staff:{authority}                      hash  staff number -> JSON {pin: 'scrypt$N$r$p$salt$hash', name?}
 *   ns:kiosk:staff-lock:{authority}:{staffNumber}   hash  failures, lastAt, lockedUntil
 *   ns:kiosk:staff-session:{sha256(token)}          hash  staffId, authority, deviceId, expiresAt
 */
import { randomBytes } from 'node:crypto';
import { COUNT_ATTEMPT_LUA, scryptKey, scryptMatches, scryptParamsAllowed, type ScryptHash } from '../security/secret-hash.js';
import type { Redis } from 'ioredis';
import { DokuboxError } from '../core/errors.js';
import { assertId, defineScript, execAll, sha256Hex, type ScriptFn } from './redis-script.js';

export interface StaffIdentity {
  /** The staff number. */
  id: string;
  authority: string;
  name?: string;
}

export type StaffVerification = { ok: true; staff: StaffIdentity } | { ok: false; locked?: { until: number } };

export interface StaffAccountsOptions {
  /** Failed sign-ins (per staff number) that lock it. Default 5. */
  maxFailures?: number;
  /** How long a lock lasts (ms). Default 15 minutes. */
  lockMs?: number;
  /** Failures are forgotten this long after the last attempt (ms). Default 24 hours. */
  failureMemoryMs?: number;
  /** Idle time after which a staff session ends (ms); every use extends it. Default 10 minutes. */
  sessionMs?: number;
}

export const STAFF_NUMBER = /^[A-Za-z0-9-]{1,32}$/;
export const PIN = /^[0-9]{4,8}$/;

const SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const MINUTE = 60_000;

/** `scrypt$N$r$p$salt$hash` (salt and hash in base64) of a PIN. */
export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptKey(pin, salt, KEY_LENGTH, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

function parseHash(stored: string): ScryptHash | undefined {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || key === undefined) return undefined;
  const parsed = { N: Number(n), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') };
  if (!scryptParamsAllowed(parsed.N, parsed.r, parsed.p) || parsed.key.length === 0) return undefined;
  return parsed;
}

/**
 * ARGV: ns, authority, staffNumber, now, maxFailures, lockMs, memoryMs
 * -> {'locked', until, ''} | {'go', lockedUntil set by this attempt or 0, account JSON or ''}
 * Every attempt counts as a failure up front (a success then clears the
 * count), so parallel attempts cannot all pass the limit before one of them
 * records its failure. Unknown staff numbers are counted and locked alike.
 */
const BEGIN = `
local ns, authority, number, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local maxf, lockMs, memory = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
${COUNT_ATTEMPT_LUA}
local lk = ns .. ':kiosk:staff-lock:' .. authority .. ':' .. number
local account = redis.call('HGET', ns .. ':kiosk:staff:' .. authority, number) or ''
local state, locks = count_attempt(lk, now, maxf, lockMs, memory)
if state == 'locked' then return {'locked', locks, ''} end
return {'go', locks, account}
`;

/**
 * ARGV: ns, tokenHash, deviceId, now, sessionMs -> {staffId, authority, account JSON} or empty.
 * A session presented by another device, expired, or of a removed account ends.
 */
const SESSION = `
local ns, tokenHash, device, now, sessionMs = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local sk = ns .. ':kiosk:staff-session:' .. tokenHash
local s = redis.call('HMGET', sk, 'staffId', 'authority', 'deviceId', 'expiresAt')
if not s[1] or not s[2] then return {} end
if s[3] ~= device or (tonumber(s[4]) or 0) <= now then
  redis.call('DEL', sk)
  return {}
end
local account = redis.call('HGET', ns .. ':kiosk:staff:' .. s[2], s[1])
if not account then
  redis.call('DEL', sk)
  return {}
end
redis.call('HSET', sk, 'expiresAt', now + sessionMs)
redis.call('PEXPIRE', sk, sessionMs)
return {s[1], s[2], account}
`;

function parseAccount(json: string | null | undefined): { pin: string; name?: string } | undefined {
  if (!json) return undefined;
  const account = JSON.parse(json) as { pin?: unknown; name?: unknown };
  if (typeof account.pin !== 'string') return undefined;
  return typeof account.name === 'string' ? { pin: account.pin, name: account.name } : { pin: account.pin };
}

function identity(id: string, authority: string, name: string | undefined): StaffIdentity {
  return name === undefined ? { id, authority } : { id, authority, name };
}

export class StaffAccounts {
  private readonly maxFailures: number;
  private readonly lockMs: number;
  private readonly failureMemoryMs: number;
  private readonly sessionMs: number;
  private readonly scripts: Record<'begin' | 'session', ScriptFn>;
  /** Same parameters and sizes as a real hash; no PIN matches it. Verified against for unknown staff numbers. */
  private readonly dummy = ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, randomBytes(16).toString('base64'), randomBytes(KEY_LENGTH).toString('base64')].join('$');

  constructor(
    private readonly redis: Redis,
    private readonly ns: string,
    options: StaffAccountsOptions = {},
  ) {
    this.maxFailures = options.maxFailures ?? 5;
    this.lockMs = options.lockMs ?? 15 * MINUTE;
    this.failureMemoryMs = options.failureMemoryMs ?? 24 * 60 * MINUTE;
    this.sessionMs = options.sessionMs ?? 10 * MINUTE;
    this.scripts = {
      begin: defineScript(redis, 'kiosk_staff_begin', BEGIN),
      session: defineScript(redis, 'kiosk_staff_session', SESSION),
    };
  }

  private key(...parts: string[]): string {
    return [this.ns, 'kiosk', ...parts].join(':');
  }

  /** Creates the account or replaces its PIN (and name); lifts a lock and forgets failures. */
  async setPin(authority: string, staffNumber: string, pin: string, name?: string): Promise<void> {
    assertId('authority', authority);
    if (!STAFF_NUMBER.test(staffNumber)) throw new DokuboxError('VALIDATION_FAILED', 'The staff number must be 1-32 letters, digits or dashes.', { field: 'staffNumber' });
    if (!PIN.test(pin)) throw new DokuboxError('VALIDATION_FAILED', 'The PIN must be 4-8 digits.', { field: 'pin' });
    if (name !== undefined && (name.trim().length === 0 || name.length > 100 || /\p{Cc}/u.test(name))) {
      throw new DokuboxError('VALIDATION_FAILED', 'The name must be 1-100 printable characters.', { field: 'name' });
    }
    const account = JSON.stringify(name === undefined ? { pin: await hashPin(pin) } : { pin: await hashPin(pin), name });
    await execAll(this.redis.multi().hset(this.key('staff', authority), staffNumber, account).del(this.key('staff-lock', authority, staffNumber)));
  }

  /**
   * Checks staff number and PIN. A locked staff number answers locked without
   * checking; the attempt that reaches the failure limit answers locked too.
   * Unknown and malformed staff numbers cost the same scrypt work.
   */
  async verify(authority: string, staffNumber: string, pin: string, now: number): Promise<StaffVerification> {
    assertId('authority', authority);
    if (!STAFF_NUMBER.test(staffNumber)) {
      await this.matches(pin, this.dummy);
      return { ok: false };
    }
    const [state, until, json] = (await this.scripts.begin(this.ns, authority, staffNumber, now, this.maxFailures, this.lockMs, this.failureMemoryMs)) as [string, number, string];
    if (state === 'locked') return { ok: false, locked: { until: Number(until) } };
    const account = parseAccount(json);
    const matches = await this.matches(pin, account?.pin ?? this.dummy);
    if (matches && account !== undefined && PIN.test(pin)) {
      await this.redis.del(this.key('staff-lock', authority, staffNumber));
      return { ok: true, staff: identity(staffNumber, authority, account.name) };
    }
    return Number(until) > 0 ? { ok: false, locked: { until: Number(until) } } : { ok: false };
  }

  private async matches(pin: string, stored: string): Promise<boolean> {
    // Overlong input is cut (the HTTP layer limits bodies anyway); the work stays that of one scrypt.
    return scryptMatches(pin.slice(0, 64), parseHash(stored), parseHash(this.dummy) as ScryptHash);
  }

  /** Removes the account (its sessions end at their next use); true when it existed. */
  async remove(authority: string, staffNumber: string): Promise<boolean> {
    assertId('authority', authority);
    if (!STAFF_NUMBER.test(staffNumber)) return false;
    const [removed] = await execAll(this.redis.multi().hdel(this.key('staff', authority), staffNumber).del(this.key('staff-lock', authority, staffNumber)));
    return Number(removed) === 1;
  }

  /** Staff numbers and names of an authority (never PIN hashes), sorted by number. */
  async list(authority: string): Promise<{ staffNumber: string; name?: string }[]> {
    assertId('authority', authority);
    const all = await this.redis.hgetall(this.key('staff', authority));
    return Object.entries(all)
      .map(([staffNumber, json]) => {
        const name = parseAccount(json)?.name;
        return name === undefined ? { staffNumber } : { staffNumber, name };
      })
      .sort((a, b) => a.staffNumber.localeCompare(b.staffNumber));
  }

  /** A session of a signed-in member of staff at one kiosk device; returns the token (only its SHA-256 is stored). */
  async startSession(params: { staffId: string; authority: string; deviceId: string }, now: number): Promise<string> {
    assertId('authority', params.authority);
    assertId('deviceId', params.deviceId);
    if (!STAFF_NUMBER.test(params.staffId)) throw new TypeError('staffId must be a staff number');
    const token = randomBytes(32).toString('base64url');
    const key = this.key('staff-session', sha256Hex(token));
    await execAll(
      this.redis
        .multi()
        .hset(key, 'staffId', params.staffId, 'authority', params.authority, 'deviceId', params.deviceId, 'expiresAt', String(now + this.sessionMs))
        .pexpire(key, this.sessionMs),
    );
    return token;
  }

  /**
   * The member of staff of a session presented by `deviceId`, extending it by
   * 10 minutes; undefined when unknown, expired, the account was removed, or
   * presented by another device (the session then ends).
   */
  async session(token: string, deviceId: string, now: number): Promise<StaffIdentity | undefined> {
    if (token.length === 0 || token.length > 128) return undefined;
    const r = (await this.scripts.session(this.ns, sha256Hex(token), deviceId, now, this.sessionMs)) as string[];
    const [staffId, authority, json] = r;
    if (staffId === undefined || authority === undefined) return undefined;
    return identity(staffId, authority, parseAccount(json)?.name);
  }

  async endSession(token: string): Promise<void> {
    if (token.length === 0 || token.length > 128) return;
    await this.redis.del(this.key('staff-session', sha256Hex(token)));
  }
}
