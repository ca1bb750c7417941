/**
 * Outbound status reports to case systems. Every PickupEvent that matters to
 * the case system becomes a report, queued per pickup in Redis and delivered
 * by BullMQ jobs, one report per job:
 *
 * - order per pickup: reports wait in one Redis list per pickup; only the head
 *   is ever in flight, and the job that delivered it enqueues the job for the
 *   next (a "collected" never overtakes "loaded");
 * - retries: exponential backoff with jitter up to `attempts`;
 * - idempotency: a report carries the event id (and the message id of the
 *   original notice); an event id is queued once, receivers ignore repeats;
 * - dead letters: after the retry budget (or a rejection by the receiver) the
 *   head is parked with its error, the pickup's later reports wait behind it
 *   until an operator replays it.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isoAt, type Clock } from '../core/clock.js';
import type { PickupEvent } from '../core/events.js';
import type { EventSubscriber } from '../service/types.js';

export type ReportStatus =
  | 'waiting'
  | 'reserved'
  | 'loaded'
  | 'notified'
  | 'smsFailed'
  | 'smsDelivered'
  | 'smsUndeliverable'
  | 'reminderSent'
  | 'collected'
  | 'expired'
  | 'returned'
  | 'cancelled'
  | 'fault';

/** SMS events (no state change) by reason; an accepted ready SMS is the transition to notified instead. */
const SMS_STATUS: Partial<Record<string, ReportStatus>> = {
  sms_failed: 'smsFailed',
  sms_delivered: 'smsDelivered',
  sms_undeliverable: 'smsUndeliverable',
  reminder_sent: 'reminderSent',
};

/** The ReportPickupEvent message of callback.wsdl. No personal data. */
export interface CaseSystemReport {
  eventId: string;
  messageId: string;
  pickupId: string;
  authority: string;
  boxId: string;
  seq: number;
  status: ReportStatus;
  reason: string;
  occurredAt: string;
  compartment?: string;
  verificationMethod?: string;
}

/** Where and how to reach one authority's case system. */
export interface CallbackTarget {
  url: string;
  wsse?: { username: string; password: string };
  basic?: { username: string; password: string };
  timeoutMs?: number;
}

export interface ReportDeliverer {
  deliver(target: CallbackTarget, report: CaseSystemReport): Promise<void>;
}

export interface DeadLetter {
  pickupId: string;
  report: CaseSystemReport;
  error: string;
  attempts: number;
  failedAt: string;
  /** Reports of the same pickup waiting behind the dead one (including it). */
  waiting: number;
}

/** How the applicant proved identity at the box, by the reason of the "collected" transition. */
const VERIFICATION: Record<string, string> = {
  code_verified_and_taken: 'sms-code+date-of-birth',
};

/** Translates an event into a report; undefined for events the case system does not need. */
export function reportFor(event: PickupEvent): CaseSystemReport | undefined {
  let status: ReportStatus;
  if (event.type === 'pickup.created' || event.type === 'pickup.transitioned') status = event.to;
  else if (event.type === 'pickup.sms' && SMS_STATUS[event.reason] !== undefined) status = SMS_STATUS[event.reason] as ReportStatus;
  else return undefined;
  const report: CaseSystemReport = {
    eventId: event.eventId,
    messageId: event.messageId,
    pickupId: event.pickupId,
    authority: event.authority,
    boxId: event.boxId,
    seq: event.seq,
    status,
    reason: event.reason,
    occurredAt: event.at,
  };
  if (event.compartment !== null) report.compartment = event.compartment;
  const verification = status === 'collected' ? VERIFICATION[event.reason] : undefined;
  if (verification !== undefined) report.verificationMethod = verification;
  return report;
}

export interface ReportQueueOptions {
  /** Commands (lists, dead letters, dedupe). */
  redis: Redis;
  /** BullMQ connection for queue and worker (the worker needs maxRetriesPerRequest: null). */
  connection: ConnectionOptions;
  /** Key prefix for the queue's own keys, e.g. `dokubox:reports:`. */
  prefix: string;
  queueName: string;
  targets: (authority: string) => CallbackTarget | undefined;
  deliverer: ReportDeliverer;
  clock: Clock;
  logger: Logger;
  /** Delivery attempts per report before it becomes a dead letter. Default 10. */
  attempts?: number;
  /** First retry delay; doubles per attempt with jitter. Default 2000 ms. */
  backoffMs?: number;
  /** How long an event id is remembered for deduplication. Default 30 days. */
  dedupeTtlMs?: number;
  concurrency?: number;
}

const ENQUEUE = `
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[2]) == false then return -1 end
return redis.call('RPUSH', KEYS[2], ARGV[1])`;

// Removes the head only if it is still the report that was delivered; returns what is left.
const POP_HEAD = `
local head = redis.call('LINDEX', KEYS[1], 0)
if head and cjson.decode(head).eventId == ARGV[1] then redis.call('LPOP', KEYS[1]) end
return redis.call('LLEN', KEYS[1])`;

export interface ReportQueueEvents {
  /** A report reached the case system (for metrics). */
  delivered: [report: CaseSystemReport];
  /** A report became a dead letter. */
  dead: [dead: Omit<DeadLetter, 'waiting'>];
}

export class CaseSystemReportQueue extends EventEmitter<ReportQueueEvents> {
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly log: Logger;

  constructor(private readonly options: ReportQueueOptions) {
    super();
    this.attempts = options.attempts ?? 10;
    this.backoffMs = options.backoffMs ?? 2000;
    this.log = options.logger.child({ component: 'case-system-reports' });
    this.queue = new Queue(options.queueName, { connection: options.connection });
    this.queue.on('error', (error) => this.log.warn({ err: { name: error.name, message: error.message } }, 'report queue connection error'));
  }

  private pendingKey(pickupId: string): string {
    return `${this.options.prefix}pending:${pickupId}`;
  }

  private get deadKey(): string {
    return `${this.options.prefix}dead`;
  }

  /** Subscribes to pickup events (the durable subscription redelivers on a throw). */
  attach(events: EventSubscriber, name = 'case-system-reports'): void {
    events.subscribe(name, (event) => this.enqueue(event));
  }

  /** Queues the report for an event; a repeated event id is ignored. */
  async enqueue(event: PickupEvent): Promise<void> {
    const report = reportFor(event);
    if (report === undefined) return;
    if (this.options.targets(report.authority) === undefined) {
      this.log.debug({ authority: report.authority, eventId: report.eventId }, 'no callback configured for this authority');
      return;
    }
    const length = (await this.options.redis.eval(
      ENQUEUE,
      2,
      `${this.options.prefix}seen:${report.eventId}`,
      this.pendingKey(report.pickupId),
      JSON.stringify(report),
      String(this.options.dedupeTtlMs ?? 30 * 24 * 3600_000),
    )) as number;
    // Only the report that made the list non-empty starts a job; later ones wait for the chain.
    if (length === 1) await this.schedule(report.pickupId, report.eventId, 0);
  }

  private async schedule(pickupId: string, eventId: string, generation: number): Promise<void> {
    // Deterministic id: scheduling the same head twice (e.g. resume after a crash) runs it once.
    const jobId = createHash('sha256').update(`${pickupId}\n${eventId}\n${generation}`).digest('hex').slice(0, 32);
    await this.queue.add(
      'report',
      { pickupId },
      { jobId, attempts: this.attempts, backoff: { type: 'exponential', delay: this.backoffMs, jitter: 0.5 }, removeOnComplete: true, removeOnFail: 1000 },
    );
  }

  start(): void {
    if (this.worker) return;
    this.worker = new Worker(this.options.queueName, (job: Job<{ pickupId: string }>) => this.process(job), {
      connection: this.options.connection,
      concurrency: this.options.concurrency ?? 4,
    });
    this.worker.on('error', (error) => this.log.error({ err: { name: error.name, message: error.message } }, 'report worker error'));
  }

  private async process(job: Job<{ pickupId: string }>): Promise<void> {
    const { pickupId } = job.data;
    const { redis } = this.options;
    if ((await redis.hexists(this.deadKey, pickupId)) === 1) return;
    const head = await redis.lindex(this.pendingKey(pickupId), 0);
    if (head === null) return;
    const report = JSON.parse(head) as CaseSystemReport;
    const target = this.options.targets(report.authority);
    try {
      if (target === undefined) throw Object.assign(new Error('no callback configured for this authority'), { permanent: true });
      await this.options.deliverer.deliver(target, report);
    } catch (error) {
      const permanent = (error as { permanent?: boolean }).permanent === true;
      const attempt = job.attemptsMade + 1;
      const message = error instanceof Error ? error.message : 'delivery failed';
      if (!permanent && attempt < this.attempts) {
        this.log.warn({ pickupId, eventId: report.eventId, attempt }, 'report delivery failed; will retry');
        throw error;
      }
      const dead: Omit<DeadLetter, 'waiting'> = { pickupId, report, error: message.slice(0, 500), attempts: attempt, failedAt: isoAt(this.options.clock) };
      await redis.hset(this.deadKey, pickupId, JSON.stringify(dead));
      this.log.error({ pickupId, eventId: report.eventId, attempts: attempt }, 'report moved to dead letters');
      this.emit('dead', dead);
      return;
    }
    const left = (await redis.eval(POP_HEAD, 1, this.pendingKey(pickupId), report.eventId)) as number;
    this.log.info({ pickupId, eventId: report.eventId, status: report.status }, 'report delivered');
    this.emit('delivered', report);
    if (left > 0) {
      const next = await redis.lindex(this.pendingKey(pickupId), 0);
      if (next !== null) await this.schedule(pickupId, (JSON.parse(next) as CaseSystemReport).eventId, 0);
    }
  }

  /** Dead letters, oldest first. */
  async listDeadLetters(): Promise<DeadLetter[]> {
    const all = await this.options.redis.hgetall(this.deadKey);
    const out: DeadLetter[] = [];
    for (const value of Object.values(all)) {
      const dead = JSON.parse(value) as Omit<DeadLetter, 'waiting'>;
      out.push({ ...dead, waiting: await this.options.redis.llen(this.pendingKey(dead.pickupId)) });
    }
    return out.sort((a, b) => a.failedAt.localeCompare(b.failedAt));
  }

  /** Puts a pickup's dead report back in delivery (with a fresh retry budget); false when there is none. */
  async replayDeadLetter(pickupId: string): Promise<boolean> {
    const raw = await this.options.redis.hget(this.deadKey, pickupId);
    if (raw === null) return false;
    const dead = JSON.parse(raw) as Omit<DeadLetter, 'waiting'>;
    await this.options.redis.hdel(this.deadKey, pickupId);
    await this.schedule(pickupId, dead.report.eventId, this.options.clock.now());
    this.log.info({ pickupId, eventId: dead.report.eventId }, 'dead letter replayed');
    return true;
  }

  /** For metrics: reports waiting in the queue and dead letters. */
  async counts(): Promise<{ jobs: number; deadLetters: number }> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed');
    return { jobs: (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0), deadLetters: await this.options.redis.hlen(this.deadKey) };
  }

  /** Re-schedules every pickup with waiting reports and no dead letter (after a crash between deliveries). */
  async resume(): Promise<number> {
    let cursor = '0';
    let resumed = 0;
    do {
      const [next, keys] = await this.options.redis.scan(cursor, 'MATCH', `${this.options.prefix}pending:*`, 'COUNT', 200);
      cursor = next;
      for (const key of keys) {
        const pickupId = key.slice(`${this.options.prefix}pending:`.length);
        if ((await this.options.redis.hexists(this.deadKey, pickupId)) === 1) continue;
        const head = await this.options.redis.lindex(key, 0);
        if (head === null) continue;
        await this.schedule(pickupId, (JSON.parse(head) as CaseSystemReport).eventId, 0);
        resumed += 1;
      }
    } while (cursor !== '0');
    return resumed;
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
