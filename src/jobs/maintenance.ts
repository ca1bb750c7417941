/**
 * Periodic housekeeping through BullMQ: the sweep turns notified pickups
 * whose deadline has passed into expired ones and queues the reminder SMS
 * that are due. A job scheduler makes exactly one sweep run per interval
 * across all instances.
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { PickupService } from '../service/pickup-service.js';

export const MAINTENANCE_QUEUE = 'maintenance';

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
}

export class Maintenance {
  readonly queue: Queue;
  worker: Worker | undefined;

  constructor(private readonly o: MaintenanceOptions) {
    this.queue = new Queue(MAINTENANCE_QUEUE, { connection: o.queueConnection, prefix: o.prefix, streams: { events: { maxLen: 100 } } });
    this.queue.on('error', (err) => o.logger.error({ queue: MAINTENANCE_QUEUE, err: err.message }, 'queue error'));
  }

  async start(): Promise<void> {
    await this.queue.upsertJobScheduler('expiry-sweep', { every: this.o.sweepIntervalMs }, { name: 'expiry-sweep', opts: { removeOnComplete: 100, removeOnFail: 500 } });
    this.worker = new Worker(
      MAINTENANCE_QUEUE,
      async (job) => {
        if (job.name === 'expiry-sweep') return this.sweep();
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
  }

  /** One sweep: expire what is overdue, queue the reminders that are due. */
  async sweep(): Promise<{ expired: number; reminders: number }> {
    const expired = await this.o.service.expireDue();
    const reminders = (await this.o.sendDueReminders?.()) ?? 0;
    return { expired, reminders };
  }

  /** Lets running jobs finish, then closes worker and queue. */
  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
