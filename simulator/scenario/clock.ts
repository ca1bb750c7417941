/**
 * The scenario's time and its timetable. Steps are written in simulated time
 * ("08:00", "+2h", "day 3 10:00"); the clock says how much real time lies
 * before such an instant. With the shared world clock (SIMULATED_TIME) the
 * middleware lives in that same time; without it the script's own clock
 * runs `speed` times faster than the wall while the middleware keeps wall
 * time (opening and quiet hours are then switched off).
 */
import type { WorldTime } from '../world.js';

export interface ScenarioClock {
  /** Whether the middleware follows this clock (its deadlines, quiet and opening hours). */
  readonly simulated: boolean;
  /** The scenario's now (ms since the epoch). */
  now(): number;
  /** Real milliseconds until the scenario instant `at` (0 when it has passed). */
  realDelay(at: number): number;
  /** Jumps forward (simulated time only). */
  jump(at: number): Promise<void>;
  /** Speed changes and jumps; timers are planned anew. */
  onChange(listener: () => void): () => void;
}

/** The script's own clock: `start` now, `speed` times the wall; the middleware does not see it. */
export function scriptClock(start: number, speed: number): ScenarioClock {
  const origin = performance.now();
  let offset = 0;
  const listeners = new Set<() => void>();
  const now = (): number => start + offset + (performance.now() - origin) * speed;
  return {
    simulated: false,
    now,
    realDelay: (at) => Math.max(0, (at - now()) / speed),
    jump: (at) => {
      // Only the script's timetable moves; the middleware keeps wall time.
      offset += Math.max(0, at - now());
      listeners.forEach((l) => l());
      return Promise.resolve();
    },
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The world's simulated clock (shared with the middleware). */
export function worldClock(time: WorldTime): ScenarioClock {
  return {
    simulated: time.state().simulated,
    now: () => time.now(),
    realDelay: (at) => {
      const { now, speed } = time.state();
      if (at <= now) return 0;
      // A paused clock: wait until it changes (onChange plans anew).
      return speed <= 0 ? Number.POSITIVE_INFINITY : (at - now) / speed;
    },
    jump: (at) => (at > time.now() ? time.set({ at }) : Promise.resolve()),
    onChange: (listener) => time.onChange(listener),
  };
}

interface Task {
  at: number;
  order: number;
  name: string;
  run: () => Promise<void> | void;
}

/** Longest single timer; longer waits are re-planned (setTimeout overflows at 2^31 ms). */
const MAX_TIMER_MS = 60_000;

/**
 * Runs tasks at scenario instants, in order of time (and of adding for equal
 * times). Tasks may add tasks; a failing task is reported to `onError` and
 * does not stop the others.
 */
export class Timetable {
  private readonly tasks: Task[] = [];
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private order = 0;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly clock: ScenarioClock,
    private readonly onError: (task: string, error: unknown) => void,
  ) {
    this.unsubscribe = clock.onChange(() => this.plan());
  }

  add(at: number, name: string, run: () => Promise<void> | void): void {
    if (this.stopped) return;
    const task: Task = { at, order: this.order++, name, run };
    let i = this.tasks.length;
    while (i > 0 && (this.tasks[i - 1] as Task).at > at) i--;
    this.tasks.splice(i, 0, task);
    if (i === 0) this.plan();
  }

  /** Tasks not yet started. */
  pending(): number {
    return this.tasks.length;
  }

  /** The instant of the next task, if any. */
  next(): number | undefined {
    return this.tasks[0]?.at;
  }

  /** Waits until every started task has finished (tasks they add are not waited for). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  stop(): void {
    this.stopped = true;
    this.tasks.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.unsubscribe();
  }

  private plan(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const first = this.tasks[0];
    if (first === undefined || this.stopped) return;
    this.timer = setTimeout(() => this.fire(), Math.min(MAX_TIMER_MS, Math.ceil(this.clock.realDelay(first.at))));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    while (this.tasks.length > 0 && (this.tasks[0] as Task).at <= now) {
      const task = this.tasks.shift() as Task;
      const done = (async () => task.run())().catch((error: unknown) => this.onError(task.name, error));
      this.running.add(done);
      void done.finally(() => this.running.delete(done));
    }
    this.plan();
  }
}
