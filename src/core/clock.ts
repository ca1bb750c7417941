/**
 * Time is injected everywhere: production uses the system clock, tests and the
 * simulated world use a manual clock that only moves when told to.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = {
  // eslint-disable-next-line no-restricted-properties -- the one place that reads the wall clock
  now: () => Date.now(),
};

export class ManualClock implements Clock {
  private current: number;

  constructor(start: number | string | Date = '2026-01-05T08:00:00Z') {
    this.current = typeof start === 'number' ? start : new Date(start).getTime();
  }

  now(): number {
    return this.current;
  }

  set(to: number | string | Date): void {
    this.current = typeof to === 'number' ? to : new Date(to).getTime();
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

export function isoAt(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
