/**
 * Time is injected everywhere: production uses the system clock, tests a
 * manual clock that only moves when told to, and the simulated world (with
 * SIMULATED_TIME) a world clock shared through Redis that runs faster or
 * jumps (src/store/world-clock.ts, docs/simulated-time.md).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface TimerHandle {
  cancel(): void;
}

/** Timeouts on the same time line as the clock (real or simulated). */
export interface Timers {
  setTimer(ms: number, fn: () => void): TimerHandle;
  /**
   * How many real milliseconds a delay of `domainMs` on this time line takes
   * (a simulated time line may run faster). Schedulers that count in real
   * time (BullMQ delays) ask this; absent means the same.
   */
  realMs?(domainMs: number): number;
}

/**
 * Where a time line that can change stands: at real time `realAnchor` it
 * read `simAnchor` and runs `speed` times as fast as real time (0: paused);
 * `version` grows with every change.
 */
export interface TimelineState {
  simAnchor: number;
  realAnchor: number;
  speed: number;
  version: number;
}

/** A time line that changes pace or jumps (the simulated world clock): whoever schedules in real time re-plans on each change. */
export interface TimelineChanges {
  state(): TimelineState;
  /** Calls `listener` after every change (a jump, a new speed); returns the unsubscribe function. */
  onChange(listener: (state: TimelineState) => void): () => void;
}

/** The real delay of `domainMs` on `clock`'s time line (unchanged when it is real time). */
export function realMsOf(clock: Clock & Partial<Timers>, domainMs: number): number {
  return clock.realMs === undefined ? Math.max(0, domainMs) : clock.realMs(domainMs);
}

export const systemClock: Clock & Timers = {
  // eslint-disable-next-line no-restricted-properties -- the one place that reads the wall clock
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
  realMs: (domainMs) => Math.max(0, domainMs),
};

/** A clock that moves only when told to; due timers fire during `advance`/`set`, in time order. */
export class ManualClock implements Clock, Timers {
  private current: number;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  constructor(start: number | string | Date = '2026-01-05T08:00:00Z') {
    this.current = typeof start === 'number' ? start : new Date(start).getTime();
  }

  now(): number {
    return this.current;
  }

  set(to: number | string | Date): void {
    this.runUntil(typeof to === 'number' ? to : new Date(to).getTime());
  }

  advance(ms: number): void {
    this.runUntil(this.current + ms);
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.current + Math.max(0, ms), seq: (this.seq += 1), fn };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) };
  }

  /** Its time moves only when told to: a delay is the same in real time. */
  realMs(domainMs: number): number {
    return Math.max(0, domainMs);
  }

  /** Timers not yet fired. */
  pendingTimers(): number {
    return this.timers.length;
  }

  private runUntil(target: number): void {
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
  }
}

export function isoAt(clock: Clock): string {
  return isoString(clock.now());
}

/** Up to 9999-12-31T23:59:59.999Z toISOString writes four-digit years (beyond, six digits with a sign). */
const FOUR_DIGIT_YEARS_END = 253_402_300_800_000;
/** The second isoString last formatted, and its text up to the fraction (`2026-12-01T21:40:05.`). */
let memoSecond = -1;
let memoPrefix = '';

/**
 * `new Date(ms).toISOString()`, the same text, for whole milliseconds from 1970 to 9999 with the part up to
 * the second remembered: a request stamps its times and its log line with it, and requests of the same
 * second share that part. Anything else (fractions, before 1970, after 9999, NaN) goes to toISOString.
 */
export function isoString(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= FOUR_DIGIT_YEARS_END) return new Date(ms).toISOString();
  const millis = ms % 1000;
  const second = ms - millis;
  if (second !== memoSecond) {
    memoPrefix = new Date(second).toISOString().slice(0, 20);
    memoSecond = second;
  }
  return `${memoPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
