/**
 * Time is injected everywhere: production uses the system clock, tests and the
 * simulated world use a manual clock that only moves when told to.
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
}

export const systemClock: Clock & Timers = {
  // eslint-disable-next-line no-restricted-properties -- the one place that reads the wall clock
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
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
  return new Date(clock.now()).toISOString();
}
