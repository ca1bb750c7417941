/**
 * Failed code entries at a kiosk: a sliding window of failures per device
 * that pauses the device with escalating pauses, and a counter of failed
 * second factors per pickup that blocks the code. Every check-and-update is
 * one Lua script (atomic across instances); times are the caller's `now`
 * (ms since the epoch), Redis TTLs only collect garbage.
 *
 * Keys (ns = the deployment's key prefix):
 *   ns:kiosk:attempts:{deviceId}         hash  pausedUntil, pausedAt, level, seq
 *   ns:kiosk:attempts:{deviceId}:window  zset  one member per failure, score = time
 *   ns:pickup:{pickupId}                 hash  fields verifyFailures, codeBlocked (only if the hash exists)
 *   ns:kiosk:decoy                       hash  takes the same writes when no live pickup is concerned
 */
import type { Redis } from 'ioredis';
import { assertId, defineScript, type ScriptFn } from './redis-script.js';

export interface AttemptLimiterOptions {
  /** Failures count this long (ms). Default 15 minutes. */
  windowMs?: number;
  /** Failures within the window that pause the device. Default 5. */
  maxFailures?: number;
  /** Pause lengths per escalation level (ms); the last one repeats. Default 1, 5, 15, 60 minutes. */
  pausesMs?: number[];
  /** The escalation level is forgotten this long after the last pause ended (ms). Default 24 hours. */
  levelMemoryMs?: number;
  /** Failed second factors for one live code that block it. Default 3. */
  pickupMaxFailures?: number;
}

export type DeviceStatus = { paused: false; failures: number } | { paused: true; until: number; level: number };

export interface FailureOutcome {
  /** The pause this failure started, or the pause already running (then the failure was not counted). */
  paused: { until: number; level: number } | undefined;
  /** True only for the call that blocked the pickup's code. */
  pickupBlocked: boolean;
  /** Failures within the window after this one (0 once a pause started). */
  failures: number;
}

const MINUTE = 60_000;

/** Shared start of the scripts: reads the device's pause state. */
const DEVICE = `
local ns, dev, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local window, memory = tonumber(ARGV[4]), tonumber(ARGV[5])
local dk = ns .. ':kiosk:attempts:' .. dev
local wk = dk .. ':window'
local d = redis.call('HMGET', dk, 'pausedUntil', 'level')
local pausedUntil = tonumber(d[1]) or 0
local level = tonumber(d[2]) or 0
if pausedUntil > 0 and now - pausedUntil >= memory then level = 0 end
`;

/** ARGV: ns, device, now, window, memory -> {1, until, level} | {0, failures} */
const STATUS = `${DEVICE}
if pausedUntil > now then return {1, pausedUntil, level} end
return {0, redis.call('ZCOUNT', wk, '(' .. (now - window), '+inf')}
`;

/**
 * ARGV: ns, device, now, window, memory, maxFailures, pickupMax, pickupId or '', pauses...
 * -> {paused 0|1, until, level, pickupBlocked 0|1, failures}
 *
 * The pickup part runs the same commands whether a pickup id was given, its
 * hash exists or not: EXISTS, HINCRBY, HGET, HSET, on the pickup's hash or on
 * the decoy. Only a real, existing pickup's hash is written.
 */
const FAILURE = `${DEVICE}
local maxf, pmax, pickup = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local pauses = {}
for i = 9, #ARGV do pauses[#pauses + 1] = tonumber(ARGV[i]) end

local decoy = ns .. ':kiosk:decoy'
local candidate = decoy
if pickup ~= '' then candidate = ns .. ':pickup:' .. pickup end
local real = redis.call('EXISTS', candidate) == 1 and pickup ~= ''
local target = decoy
if real then target = candidate end
local n = redis.call('HINCRBY', target, 'verifyFailures', 1)
local wasBlocked = redis.call('HGET', target, 'codeBlocked')
local blocks = real and n >= pmax and wasBlocked ~= '1'
if blocks then redis.call('HSET', target, 'codeBlocked', '1') else redis.call('HSET', decoy, 'codeBlocked', '0') end
local blocked = 0
if blocks then blocked = 1 end

if pausedUntil > now then
  return {1, pausedUntil, level, blocked, 0}
end

redis.call('ZREMRANGEBYSCORE', wk, '-inf', now - window)
local seq = redis.call('HINCRBY', dk, 'seq', 1)
redis.call('ZADD', wk, now, tostring(seq))
local failures = redis.call('ZCARD', wk)
local paused = 0
if failures >= maxf then
  level = math.min(level + 1, #pauses)
  pausedUntil = now + pauses[level]
  redis.call('HSET', dk, 'pausedUntil', pausedUntil, 'pausedAt', now, 'level', level)
  redis.call('DEL', wk)
  failures = 0
  paused = 1
else
  redis.call('HSET', dk, 'level', level)
  redis.call('PEXPIRE', wk, window)
end
redis.call('PEXPIRE', dk, math.max(window, pausedUntil + memory - now))
return {paused, pausedUntil, level, blocked, failures}
`;

/** ARGV: ns, device, now -> ends a running pause at now and clears the window; keeps the level. 1 when a pause was running. */
const RELEASE = `
local ns, dev, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local dk = ns .. ':kiosk:attempts:' .. dev
redis.call('DEL', dk .. ':window')
local pausedUntil = tonumber(redis.call('HGET', dk, 'pausedUntil')) or 0
if pausedUntil > now then
  redis.call('HSET', dk, 'pausedUntil', now)
  return 1
end
return 0
`;

export class AttemptLimiter {
  private readonly windowMs: number;
  private readonly maxFailures: number;
  private readonly pausesMs: number[];
  private readonly levelMemoryMs: number;
  private readonly pickupMaxFailures: number;
  private readonly scripts: Record<'status' | 'failure' | 'release', ScriptFn>;

  constructor(
    private readonly redis: Redis,
    private readonly ns: string,
    options: AttemptLimiterOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 15 * MINUTE;
    this.maxFailures = options.maxFailures ?? 5;
    this.pausesMs = options.pausesMs ?? [1 * MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE];
    this.levelMemoryMs = options.levelMemoryMs ?? 24 * 60 * MINUTE;
    this.pickupMaxFailures = options.pickupMaxFailures ?? 3;
    if (this.pausesMs.length === 0) throw new TypeError('pausesMs needs at least one pause');
    this.scripts = {
      status: defineScript(redis, 'kiosk_attempt_status', STATUS),
      failure: defineScript(redis, 'kiosk_attempt_failure', FAILURE),
      release: defineScript(redis, 'kiosk_attempt_release', RELEASE),
    };
  }

  /** Whether the device is paused, else how many failures count in the window. */
  async status(deviceId: string, now: number): Promise<DeviceStatus> {
    assertId('deviceId', deviceId);
    const r = (await this.scripts.status(this.ns, deviceId, now, this.windowMs, this.levelMemoryMs)) as number[];
    if (Number(r[0]) === 1) return { paused: true, until: Number(r[1]), level: Number(r[2]) };
    return { paused: false, failures: Number(r[1]) };
  }

  /**
   * Counts a failed entry at the device; the fifth within the window starts
   * the next pause. `pickupId` names the live pickup whose code matched while
   * another factor was wrong: its failures are counted and the third blocks
   * the code. The Redis work is the same with or without it.
   */
  async recordFailure(deviceId: string, pickupId: string | undefined, now: number): Promise<FailureOutcome> {
    assertId('deviceId', deviceId);
    if (pickupId !== undefined) assertId('pickupId', pickupId);
    const r = (await this.scripts.failure(
      this.ns,
      deviceId,
      now,
      this.windowMs,
      this.levelMemoryMs,
      this.maxFailures,
      this.pickupMaxFailures,
      pickupId ?? '',
      ...this.pausesMs,
    )) as number[];
    return {
      paused: Number(r[0]) === 1 ? { until: Number(r[1]), level: Number(r[2]) } : undefined,
      pickupBlocked: Number(r[3]) === 1,
      failures: Number(r[4]),
    };
  }

  /** A correct entry: the pickup's failed second factors are forgotten (the device's window is not). */
  async recordSuccess(deviceId: string, pickupId: string, _now: number): Promise<void> {
    assertId('deviceId', deviceId);
    assertId('pickupId', pickupId);
    await this.redis.hdel(`${this.ns}:pickup:${pickupId}`, 'verifyFailures');
  }

  /**
   * Staff release a paused device: the pause ends now and the window is
   * cleared; the escalation level stays (and is forgotten 24 hours from now).
   * True when a pause was running.
   */
  async release(deviceId: string, now: number): Promise<boolean> {
    assertId('deviceId', deviceId);
    return Number(await this.scripts.release(this.ns, deviceId, now)) === 1;
  }
}
