/**
 * Periodic housekeeping through BullMQ: the sweep turns notified pickups
 * whose deadline has passed into expired ones and queues the reminder SMS
 * that are due. A job scheduler makes exactly one sweep run per interval
 * across all instances.
 *
 * In simulated time (SIMULATED_TIME) the interval shrinks with the world
 * clock's speed, and every change of the clock (a jump, a new speed) runs a
 * sweep at once: one per change across all instances (the job id names the
 * change). See docs/simulated-time.md.
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { TimelineChanges, TimelineState } from '../core/clock.js';
import type { PickupService } from '../service/pickup-service.js';

export const MAINTENANCE_QUEUE = 'maintenance';

/** Sweeps never run closer together than this, however fast simulated time runs. */
export const MIN_SWEEP_INTERVAL_MS = 500;

const SWEEP = 'expiry-sweep';

/** The sweep's real interval at a simulated speed: `intervalMs` of simulated time, at least MIN_SWEEP_INTERVAL_MS; paused: as configured. */
export function sweepEveryMs(intervalMs: number, speed: number): number {
  return speed > 0 ? Math.max(MIN_SWEEP_INTERVAL_MS, Math.round(intervalMs / speed)) : intervalMs;
}

/** The id of the sweep that follows a change of the world clock: the same on every instance, so it runs once. */
export function clockSweepJobId(state: TimelineState): string {
  return `world-clock.${state.version}.${state.simAnchor}`;
}

export interface MaintenanceOptions {
  /** Connection for the queue: fail fast when Redis is down. */
  queueConnection: ConnectionOptions;
  /** Connection for the worker: must have maxRetriesPerRequest null. */
  workerConnection: ConnectionOptions;
  prefix: string;
  service: PickupService;
  logger: Logger;
  metrics: Metrics;
  sweepIntervalMs: number;
  /** Queues due reminder SMS; returns how many. */
  sendDueReminders?: () => Promise<number>;
  /** The simulated world clock (SIMULATED_TIME): sweeps follow its speed and its changes. */
  timeline?: TimelineChanges;
}

export class Maintenance {
  readonly queue: Queue;
  worker: Worker | undefined;
  private stopFollowingClock: (() => void) | undefined;
  private everyMs: number | undefined;
  /** Changes of the world clock are handled one after another, so the last speed sets the interval. */
  private following: Promise<void> = Promise.resolve();

  constructor(private readonly o: MaintenanceOptions) {
    this.queue = new Queue(MAINTENANCE_QUEUE, { connection: o.queueConnection, prefix: o.prefix, streams: { events: { maxLen: 100 } } });
    this.queue.on('error', (err) => o.logger.error({ queue: MAINTENANCE_QUEUE, err: err.message }, 'queue error'));
  }

  async start(): Promise<void> {
    await this.schedule(this.o.timeline?.state().speed ?? 1);
    this.worker = new Worker(
      MAINTENANCE_QUEUE,
      async (job) => {
        if (job.name === SWEEP) return this.sweep();
        return undefined;
      },
      { connection: this.o.workerConnection, prefix: this.o.prefix, concurrency: 1 },
    );
    this.worker.on('error', (err) => this.o.logger.error({ queue: MAINTENANCE_QUEUE, err: err.message }, 'worker error'));
    this.worker.on('completed', (job, result: unknown) => {
      this.o.metrics.jobs.inc({ queue: MAINTENANCE_QUEUE, outcome: 'completed' });
      // A sweep runs every minute: one that changed nothing is logged at debug, so it does not drown the rest.
      const idle = typeof result === 'object' && result !== null && Object.values(result).every((v) => v === 0);
      this.o.logger[idle ? 'debug' : 'info']({ queue: MAINTENANCE_QUEUE, job: job.name, jobId: job.id, result }, 'job completed');
    });
    this.worker.on('failed', (job, err) => {
      this.o.metrics.jobs.inc({ queue: MAINTENANCE_QUEUE, outcome: 'failed' });
      this.o.logger.warn({ queue: MAINTENANCE_QUEUE, job: job?.name, jobId: job?.id, err: err.message }, 'job failed');
    });
    this.stopFollowingClock = this.o.timeline?.onChange((state) => {
      this.following = this.following.then(() =>
        this.afterClockChange(state).catch((err: unknown) =>
          this.o.logger.warn({ queue: MAINTENANCE_QUEUE, err: err instanceof Error ? err.message : String(err) }, 'sweep after a change of the world clock not queued'),
        ),
      );
    });
  }

  /** Resolves once the changes of the world clock heard so far are handled (sweep queued, interval set). */
  settled(): Promise<void> {
    return this.following;
  }

  /** The simulated clock changed: sweep now (once across instances), and at the new pace from now on. */
  async afterClockChange(state: TimelineState): Promise<void> {
    await this.queue.add(SWEEP, {}, { jobId: clockSweepJobId(state), removeOnComplete: 100, removeOnFail: 500 });
    await this.schedule(state.speed);
  }

  /** (Re)sets the periodic sweep to the interval at `speed` (1 in real time). */
  private async schedule(speed: number): Promise<void> {
    const every = sweepEveryMs(this.o.sweepIntervalMs, speed);
    if (every === this.everyMs) return;
    this.everyMs = every;
    await this.queue.upsertJobScheduler(SWEEP, { every }, { name: SWEEP, opts: { removeOnComplete: 100, removeOnFail: 500 } });
  }

  /** One sweep: expire what is overdue, queue the reminders that are due. */
  async sweep(): Promise<{ expired: number; reminders: number }> {
    const expired = await this.o.service.expireDue();
    const reminders = (await this.o.sendDueReminders?.()) ?? 0;
    return { expired, reminders };
  }

  /** Lets running jobs finish, then closes worker and queue. */
  async close(): Promise<void> {
    this.stopFollowingClock?.();
    await this.following;
    await this.worker?.close();
    await this.queue.close();
  }
}
