/**
 * Kiosk PCs: staff create a one-time enrollment code for a box, the kiosk
 * redeems it once and from then on presents a session token (an httpOnly
 * cookie, set by the HTTP layer). Codes and tokens are stored only as
 * SHA-256; redemption is one Lua script (one-time across instances) with a
 * failure limit per client and in total, as it is reachable without
 * authentication. Times are the caller's `now` (ms); TTLs only collect
 * garbage.
 *
 * Keys (ns = the deployment's key prefix):
 *   ns:kiosk:enroll:{sha256(code)}               string  JSON {boxId, authority, createdBy, expiresAt}
 *   ns:kiosk:device:{deviceId}                   hash    id, boxId, authority, enrolledAt, enrolledBy, tokenHash
 *   ns:kiosk:token:{sha256(token)}               string  device id
 *   ns:kiosk:box:{boxId}:devices                 set     device ids
 *   ns:kiosk:enroll-failures                     zset    failed redemptions of all clients, score = time
 *   ns:kiosk:enroll-failures:{sha256(client)}    zset    failed redemptions of one client (e.g. its address)
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import { assertId, defineScript, execAll, pairs, sha256Hex, type ScriptFn } from './redis-script.js';

export interface KioskDevice {
  id: string;
  boxId: string;
  authority: string;
  /** ISO 8601. */
  enrolledAt: string;
  /** Who created the enrollment code (a staff or API key id). */
  enrolledBy: string;
}

export interface EnrollmentRequest {
  boxId: string;
  authority: string;
  createdBy: string;
}

export type RedeemResult =
  | { outcome: 'enrolled'; token: string; device: KioskDevice }
  /** Unknown, expired, already used or malformed: one answer for all. */
  | { outcome: 'invalid' }
  /** Too many failed redemptions from this client or in total: answer 429 with Retry-After. */
  | { outcome: 'too_many_attempts'; retryAfterMs: number };

export interface KioskDevicesOptions {
  /** How long an enrollment code is valid (ms). Default 15 minutes. */
  codeValidityMs?: number;
  /** Failed redemptions count this long (ms). Default 15 minutes. */
  failureWindowMs?: number;
  /** Failed redemptions per client within the window. Default 20. */
  maxFailuresPerClient?: number;
  /** Failed redemptions of all clients together within the window. Default 200. */
  maxFailuresTotal?: number;
}

/** No 0/O, 1/I/L: 23 letters and 8 digits, 31^10 ≈ 8.2·10^14 codes. */
export const ENROLLMENT_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 10;
const MINUTE = 60_000;

/** Upper case, without dashes and white space: the form that is hashed. */
export function normalizeEnrollmentCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

/**
 * ARGV: ns, codeHash, clientHash, now, window, perClient, total, nonce, deviceId, tokenHash, enrolledAt
 * -> {'enrolled', boxId, authority, createdBy} | {'invalid'} | {'limited', retryAt} | {'collision'}
 */
const REDEEM = `
local ns, codeHash, client, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local window, perClient, total, nonce = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local deviceId, tokenHash, enrolledAt = ARGV[9], ARGV[10], ARGV[11]
local gk = ns .. ':kiosk:enroll-failures'
local ck = gk .. ':' .. client
redis.call('ZREMRANGEBYSCORE', ck, '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', gk, '-inf', now - window)
local retryAt = 0
if redis.call('ZCARD', ck) >= perClient then
  local oldest = redis.call('ZRANGE', ck, 0, 0, 'WITHSCORES')
  retryAt = math.max(retryAt, tonumber(oldest[2]) + window)
end
if redis.call('ZCARD', gk) >= total then
  local oldest = redis.call('ZRANGE', gk, 0, 0, 'WITHSCORES')
  retryAt = math.max(retryAt, tonumber(oldest[2]) + window)
end
if retryAt > 0 then return {'limited', retryAt} end

local ek = ns .. ':kiosk:enroll:' .. codeHash
local dk = ns .. ':kiosk:device:' .. deviceId
local raw = redis.call('GET', ek)
if raw then
  local e = cjson.decode(raw)
  if tonumber(e.expiresAt) > now then
    if redis.call('EXISTS', dk) == 1 then return {'collision'} end
    redis.call('DEL', ek)
    redis.call('HSET', dk, 'id', deviceId, 'boxId', e.boxId, 'authority', e.authority,
      'enrolledAt', enrolledAt, 'enrolledBy', e.createdBy, 'tokenHash', tokenHash)
    redis.call('SET', ns .. ':kiosk:token:' .. tokenHash, deviceId)
    redis.call('SADD', ns .. ':kiosk:box:' .. e.boxId .. ':devices', deviceId)
    return {'enrolled', e.boxId, e.authority, e.createdBy}
  end
  redis.call('DEL', ek)
end
redis.call('ZADD', ck, now, nonce)
redis.call('ZADD', gk, now, nonce)
redis.call('PEXPIRE', ck, window)
redis.call('PEXPIRE', gk, window)
return {'invalid'}
`;

/** ARGV: ns, tokenHash -> the device hash as [field, value, ...], or empty. */
const IDENTIFY = `
local ns, tokenHash = ARGV[1], ARGV[2]
local id = redis.call('GET', ns .. ':kiosk:token:' .. tokenHash)
if not id then return {} end
local dk = ns .. ':kiosk:device:' .. id
if redis.call('HGET', dk, 'tokenHash') ~= tokenHash then return {} end
return redis.call('HGETALL', dk)
`;

/** ARGV: ns, deviceId -> 1 when the device existed. */
const REVOKE = `
local ns, id = ARGV[1], ARGV[2]
local dk = ns .. ':kiosk:device:' .. id
local d = redis.call('HMGET', dk, 'tokenHash', 'boxId')
if not d[1] then return 0 end
redis.call('DEL', ns .. ':kiosk:token:' .. d[1])
if d[2] then redis.call('SREM', ns .. ':kiosk:box:' .. d[2] .. ':devices', id) end
redis.call('DEL', dk)
return 1
`;

function toDevice(h: Record<string, string>): KioskDevice | undefined {
  if (h.id === undefined || h.boxId === undefined) return undefined;
  return { id: h.id, boxId: h.boxId, authority: h.authority ?? '', enrolledAt: h.enrolledAt ?? '', enrolledBy: h.enrolledBy ?? '' };
}

function newCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i += 1) code += ENROLLMENT_ALPHABET[randomInt(ENROLLMENT_ALPHABET.length)];
  return code;
}

export class KioskDevices {
  private readonly codeValidityMs: number;
  private readonly failureWindowMs: number;
  private readonly maxFailuresPerClient: number;
  private readonly maxFailuresTotal: number;
  private readonly scripts: Record<'redeem' | 'identify' | 'revoke', ScriptFn>;

  constructor(
    private readonly redis: Redis,
    private readonly ns: string,
    options: KioskDevicesOptions = {},
  ) {
    this.codeValidityMs = options.codeValidityMs ?? 15 * MINUTE;
    this.failureWindowMs = options.failureWindowMs ?? 15 * MINUTE;
    this.maxFailuresPerClient = options.maxFailuresPerClient ?? 20;
    this.maxFailuresTotal = options.maxFailuresTotal ?? 200;
    this.scripts = {
      redeem: defineScript(redis, 'kiosk_device_redeem', REDEEM),
      identify: defineScript(redis, 'kiosk_device_identify', IDENTIFY),
      revoke: defineScript(redis, 'kiosk_device_revoke', REVOKE),
    };
  }

  private key(...parts: string[]): string {
    return [this.ns, 'kiosk', ...parts].join(':');
  }

  /** A one-time enrollment code for a kiosk of `boxId`, shown as `ABCDE-FGHJK`; valid 15 minutes. */
  async createEnrollment(request: EnrollmentRequest, now: number): Promise<{ code: string; expiresAt: number }> {
    assertId('boxId', request.boxId);
    assertId('authority', request.authority);
    if (request.createdBy.length === 0 || request.createdBy.length > 128) throw new TypeError('createdBy must be 1-128 characters');
    const expiresAt = now + this.codeValidityMs;
    const value = JSON.stringify({ boxId: request.boxId, authority: request.authority, createdBy: request.createdBy, expiresAt });
    // The TTL only collects garbage (a minute of slack for clocks of other instances); redeem checks expiresAt.
    for (;;) {
      const code = newCode();
      const stored = await this.redis.set(this.key('enroll', sha256Hex(code)), value, 'PX', this.codeValidityMs + MINUTE, 'NX');
      if (stored === 'OK') return { code: `${code.slice(0, 5)}-${code.slice(5)}`, expiresAt };
    }
  }

  /**
   * Consumes an enrollment code (with or without the dash, any case) and
   * enrolls a device. `client` identifies who asks (e.g. the client address):
   * failed redemptions are limited per client and in total; while a limit is
   * reached even a valid code is refused (it stays valid).
   */
  async redeem(code: string, now: number, client: string): Promise<RedeemResult> {
    const codeHash = sha256Hex(normalizeEnrollmentCode(code.slice(0, 64)));
    const clientHash = sha256Hex(client).slice(0, 32);
    for (;;) {
      const token = randomBytes(32).toString('base64url');
      const deviceId = `kiosk-${randomBytes(4).toString('hex')}`;
      const enrolledAt = new Date(now).toISOString();
      const r = (await this.scripts.redeem(
        this.ns,
        codeHash,
        clientHash,
        now,
        this.failureWindowMs,
        this.maxFailuresPerClient,
        this.maxFailuresTotal,
        randomBytes(8).toString('hex'),
        deviceId,
        sha256Hex(token),
        enrolledAt,
      )) as (string | number)[];
      switch (r[0]) {
        case 'enrolled':
          return { outcome: 'enrolled', token, device: { id: deviceId, boxId: String(r[1]), authority: String(r[2]), enrolledAt, enrolledBy: String(r[3]) } };
        case 'invalid':
          return { outcome: 'invalid' };
        case 'limited':
          return { outcome: 'too_many_attempts', retryAfterMs: Math.max(0, Number(r[1]) - now) };
        case 'collision':
          continue;
        default:
          throw new Error(`unexpected redeem result ${String(r[0])}`);
      }
    }
  }

  /** The device a session token belongs to (one round trip), or undefined for unknown and revoked tokens. */
  async identify(token: string): Promise<KioskDevice | undefined> {
    if (token.length === 0 || token.length > 128) return undefined;
    return toDevice(pairs(await this.scripts.identify(this.ns, sha256Hex(token))));
  }

  /** Removes the device and its token; true when it existed. */
  async revoke(deviceId: string): Promise<boolean> {
    assertId('deviceId', deviceId);
    return Number(await this.scripts.revoke(this.ns, deviceId)) === 1;
  }

  async get(deviceId: string): Promise<KioskDevice | undefined> {
    assertId('deviceId', deviceId);
    return toDevice(await this.redis.hgetall(this.key('device', deviceId)));
  }

  /** The devices enrolled for a box, oldest first. */
  async list(boxId: string): Promise<KioskDevice[]> {
    assertId('boxId', boxId);
    const ids = await this.redis.smembers(this.key('box', boxId, 'devices'));
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.key('device', id));
    const devices: KioskDevice[] = [];
    for (const reply of await execAll(pipeline)) {
      const device = toDevice(reply as Record<string, string>);
      if (device !== undefined) devices.push(device);
    }
    return devices.sort((a, b) => a.enrolledAt.localeCompare(b.enrolledAt) || a.id.localeCompare(b.id));
  }
}
