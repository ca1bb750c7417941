/**
 * The simulated world's clock (SIMULATED_TIME, never in production): one
 * time line in Redis that every instance reads, so that deadlines,
 * reminders, quiet hours, opening hours and expiries play out in minutes.
 * It runs at a speed (1 = real time, 3600 = an hour a second, 0 = paused)
 * and jumps forward to a date; it never goes back, because the world's
 * records (events, deadlines, sent messages) would contradict themselves.
 *
 * State: the hash `${ns}:world:clock` = { simAnchor, realAnchor, speed,
 * version }; simulated now = simAnchor + (real now - realAnchor) * speed.
 * A change is one Lua script (read, jump and/or new speed, version + 1,
 * publish the version on the channel of the same name), so concurrent
 * changes never lose one another; every instance re-reads on the message.
 * See docs/simulated-time.md for which time is which.
 *
 * @example
 * const world = await WorldClock.connect({ redis, ns: 'dokubox', subscriberConnection: () => connectRedis(settings, 'subscriber', logger) });
 * world.setTimer(120_000, () => raiseAlarm());   // two simulated minutes
 * await world.set({ at: '2026-12-24T08:00:00+01:00', speed: 0 });
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle, type TimelineChanges, type TimelineState, type Timers } from '../core/clock.js';

export type WorldClockState = TimelineState;

/** A change of the world clock: jump to `at` (epoch ms or ISO 8601 with a time zone) and/or run at `speed`. */
export interface WorldClockChange {
  speed?: number;
  at?: number | string;
}

/** Fastest allowed: a day in under a second. */
export const MAX_WORLD_SPEED = 100_000;

export type WorldClockErrorCode = 'CLOCK_BACKWARDS' | 'CLOCK_INVALID';

export class WorldClockError extends Error {
  constructor(
    readonly code: WorldClockErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorldClockError';
  }
}

/** The hash of the state, and the channel on which changes are announced. */
export function worldClockKey(ns: string): string {
  return `${ns}:world:clock`;
}

/** Node's timers fire at once beyond this (about 24.8 days); a longer wait is re-armed when it ends. */
const MAX_REAL_TIMEOUT_MS = 2_147_483_647;

// ARGV: key, real now, jump target ('' none), new speed ('' none), start time and speed of a new world.
// Without a target and a speed it only reads (creating a new world's state). Replies
// { simAnchor, realAnchor, speed, version } as strings, or { 'backwards', current simulated time }.
const CHANGE_LUA = `
local key, realNow, at, speed = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local function ms(n) return string.format('%d', math.floor(n)) end
local cur = redis.call('HMGET', key, 'simAnchor', 'realAnchor', 'speed', 'version')
if not cur[1] then
  cur = { ms(tonumber(ARGV[5])), ms(realNow), ARGV[6], '0' }
  redis.call('HSET', key, 'simAnchor', cur[1], 'realAnchor', cur[2], 'speed', cur[3], 'version', cur[4])
end
if at == '' and speed == '' then return cur end
local simAnchor, realAnchor = tonumber(cur[1]), tonumber(cur[2])
local elapsed = realNow - realAnchor
if elapsed < 0 then elapsed = 0 end
local current = math.floor(simAnchor + elapsed * tonumber(cur[3]))
local target = current
if at ~= '' then
  target = tonumber(at)
  if target < current then return { 'backwards', ms(current) } end
end
if speed == '' then speed = cur[3] end
local version = tostring(tonumber(cur[4]) + 1)
local state = { ms(target), ms(realNow), speed, version }
redis.call('HSET', key, 'simAnchor', state[1], 'realAnchor', state[2], 'speed', state[3], 'version', state[4])
redis.call('PUBLISH', key, version)
return state
`;

type ChangeScript = (...args: string[]) => Promise<string[]>;

function changeScript(redis: Redis): ChangeScript {
  const command = 'dokubox_world_clock';
  if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: 0, lua: CHANGE_LUA });
  const fn = (redis as unknown as Record<string, ChangeScript>)[command];
  if (fn === undefined) throw new Error('the world clock script was not registered');
  return fn.bind(redis);
}

function parseAt(at: number | string): number {
  if (typeof at === 'number') {
    if (!Number.isSafeInteger(at)) throw new WorldClockError('CLOCK_INVALID', `the world clock's date must be whole milliseconds since the epoch, not ${at}`);
    return at;
  }
  const value = /(Z|[+-]\d{2}:?\d{2})$/i.test(at.trim()) ? Date.parse(at) : Number.NaN;
  if (Number.isNaN(value)) {
    throw new WorldClockError('CLOCK_INVALID', `the world clock's date '${at.slice(0, 40)}' must be ISO 8601 with a time zone, e.g. 2026-12-24T08:00:00+01:00 or 2026-12-24T07:00:00Z`);
  }
  return value;
}

function checkSpeed(speed: number): number {
  if (!Number.isFinite(speed) || speed < 0 || speed > MAX_WORLD_SPEED) {
    throw new WorldClockError('CLOCK_INVALID', `the world clock's speed must be between 0 (paused) and ${MAX_WORLD_SPEED}, not ${speed}`);
  }
  return speed;
}

function stateOf(reply: string[]): WorldClockState {
  const [simAnchor, realAnchor, speed, version] = reply.map(Number) as [number, number, number, number];
  return { simAnchor, realAnchor, speed, version };
}

interface ScriptOptions {
  /** Real time; default the system clock. */
  wall?: Clock;
  /** A new world's start (no clock in Redis yet): simulated time and speed; default real now, speed 1. */
  initial?: WorldClockChange;
}

async function runScript(redis: Redis, ns: string, change: WorldClockChange, options: ScriptOptions): Promise<WorldClockState> {
  const realNow = (options.wall ?? systemClock).now();
  const initialAt = options.initial?.at === undefined ? realNow : parseAt(options.initial.at);
  const initialSpeed = options.initial?.speed === undefined ? 1 : checkSpeed(options.initial.speed);
  const at = change.at === undefined ? '' : String(parseAt(change.at));
  const speed = change.speed === undefined ? '' : String(checkSpeed(change.speed));
  const reply = await changeScript(redis)(worldClockKey(ns), String(realNow), at, speed, String(initialAt), String(initialSpeed));
  if (reply[0] === 'backwards') {
    const current = new Date(Number(reply[1])).toISOString();
    throw new WorldClockError(
      'CLOCK_BACKWARDS',
      `the world clock does not go back (it is ${current} in the simulated world, the jump was to ${new Date(Number(at)).toISOString()}): events, deadlines and sent messages would contradict themselves; start a new world (another REDIS_KEY_PREFIX) to begin earlier`,
    );
  }
  return stateOf(reply);
}

/**
 * Changes the world clock for every instance, atomically: the simulated time
 * reached under the old speed is the new anchor, then `at` (a jump forward)
 * and `speed` apply. Throws WorldClockError `CLOCK_BACKWARDS` for a jump
 * into the simulated past and `CLOCK_INVALID` for a bad date or speed.
 */
export async function setWorldClock(redis: Redis, ns: string, change: WorldClockChange, options: ScriptOptions = {}): Promise<WorldClockState> {
  if (change.at === undefined && change.speed === undefined) throw new WorldClockError('CLOCK_INVALID', 'a change of the world clock needs a date to jump to (at), a speed, or both');
  return runScript(redis, ns, change, options);
}

/** The world clock's state; a world without one gets it now (`initial`, else real now at speed 1). */
export async function readWorldClock(redis: Redis, ns: string, options: ScriptOptions = {}): Promise<WorldClockState> {
  return runScript(redis, ns, {}, options);
}

export interface WorldClockOptions {
  /** Command connection (reads, changes). */
  redis: Redis;
  /** REDIS_KEY_PREFIX. */
  ns: string;
  /** Opens the pub/sub connection that hears changes (default: a duplicate of `redis`). */
  subscriberConnection?: () => Redis;
  /** Real time and real timeouts; default the system clock. */
  wall?: Clock & Timers;
  /** A new world's start (no clock in Redis yet); default real now at speed 1. */
  initial?: WorldClockChange;
  logger?: Logger;
}

interface SimTimer {
  at: number;
  seq: number;
  fn: () => void;
}

export class WorldClock implements Clock, Timers, TimelineChanges {
  private current: WorldClockState;
  /** Simulated time never goes back here, whatever the real clocks of the instances say. */
  private latest = 0;
  private timers: SimTimer[] = [];
  private seq = 0;
  private armed: TimerHandle | undefined;
  private readonly listeners = new Set<(state: WorldClockState) => void>();
  private subscriber: Redis | undefined;
  private readonly wall: Clock & Timers;

  private constructor(
    private readonly o: WorldClockOptions,
    state: WorldClockState,
  ) {
    this.wall = o.wall ?? systemClock;
    this.current = state;
  }

  /** Reads (or, in a new world, creates) the clock and follows its changes until `close`. */
  static async connect(options: WorldClockOptions): Promise<WorldClock> {
    const script = { ...(options.wall === undefined ? {} : { wall: options.wall }), ...(options.initial === undefined ? {} : { initial: options.initial }) };
    const clock = new WorldClock(options, await readWorldClock(options.redis, options.ns, script));
    const subscriber = (options.subscriberConnection ?? (() => options.redis.duplicate({ enableOfflineQueue: true })))();
    clock.subscriber = subscriber;
    subscriber.on('error', (err: Error) => options.logger?.warn({ err: { message: err.message } }, 'world clock subscriber connection error'));
    subscriber.on('message', () => void clock.refresh().catch((err: unknown) => clock.logError(err, 'world clock not re-read after a change')));
    // After a reconnect: a change may have been announced while the connection was away.
    subscriber.on('ready', () => void clock.refresh().catch((err: unknown) => clock.logError(err, 'world clock not re-read after a reconnect')));
    try {
      await subscriber.subscribe(worldClockKey(options.ns));
      // A change between the first read and the subscription.
      await clock.refresh();
    } catch (error) {
      subscriber.disconnect();
      throw error;
    }
    return clock;
  }

  /** Milliseconds since the epoch in the simulated world. */
  now(): number {
    const s = this.current;
    const elapsed = Math.max(0, this.wall.now() - s.realAnchor);
    this.latest = Math.max(this.latest, s.simAnchor + Math.floor(elapsed * s.speed));
    return this.latest;
  }

  state(): WorldClockState {
    return { ...this.current };
  }

  /**
   * Real milliseconds that `domainMs` simulated ones take at the current
   * speed (at least 0). Paused, the delay is returned as it is: nothing
   * simulated happens before the next change, and every change re-plans
   * (timers here re-arm, delayed SMS are promoted and re-check their time).
   */
  realMs(domainMs: number): number {
    const ms = Math.max(0, domainMs);
    return this.current.speed > 0 ? Math.ceil(ms / this.current.speed) : ms;
  }

  /** Calls `fn` once `ms` simulated milliseconds have passed (also by a jump; timers due together fire in time order). */
  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer: SimTimer = { at: this.now() + Math.max(0, ms), seq: (this.seq += 1), fn };
    this.timers.push(timer);
    this.arm();
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== timer);
        this.arm();
      },
    };
  }

  onChange(listener: (state: WorldClockState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes the clock for every instance (setWorldClock) and applies the change here at once. */
  async set(change: WorldClockChange): Promise<WorldClockState> {
    const state = await setWorldClock(this.o.redis, this.o.ns, change, { wall: this.wall });
    this.apply(state);
    return this.state();
  }

  /** Re-reads the state from Redis; applies it if it is newer than the one known here. */
  async refresh(): Promise<WorldClockState> {
    const fields = await this.o.redis.hmget(worldClockKey(this.o.ns), 'simAnchor', 'realAnchor', 'speed', 'version');
    // A world whose clock was deleted keeps the time known here.
    if (fields.length === 4 && fields.every((f) => f !== null)) this.apply(stateOf(fields as string[]));
    return this.state();
  }

  /** Stops following changes; timers not yet due never fire. */
  async close(): Promise<void> {
    this.armed?.cancel();
    this.armed = undefined;
    this.timers = [];
    this.listeners.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private apply(state: WorldClockState): void {
    if (state.version <= this.current.version) return;
    this.current = state;
    this.fireDue();
    this.arm();
    for (const listener of [...this.listeners]) {
      try {
        listener(this.state());
      } catch (error) {
        this.logError(error, 'world clock listener failed');
      }
    }
  }

  private fireDue(): void {
    for (;;) {
      const now = this.now();
      const due = this.timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) return;
      this.timers = this.timers.filter((t) => t !== due);
      try {
        due.fn();
      } catch (error) {
        this.logError(error, 'world clock timer failed');
      }
    }
  }

  /** One real timeout for the earliest simulated timer; none while paused. */
  private arm(): void {
    this.armed?.cancel();
    this.armed = undefined;
    const speed = this.current.speed;
    if (speed <= 0 || this.timers.length === 0) return;
    const next = Math.min(...this.timers.map((t) => t.at));
    const delay = Math.min(MAX_REAL_TIMEOUT_MS, Math.max(0, Math.ceil((next - this.now()) / speed)));
    this.armed = this.wall.setTimer(delay, () => {
      this.armed = undefined;
      this.fireDue();
      this.arm();
    });
  }

  private logError(error: unknown, message: string): void {
    this.o.logger?.error({ err: { message: error instanceof Error ? error.message : String(error) } }, message);
  }
}
