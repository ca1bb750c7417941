/**
 * Outbound status reports to case systems. Every PickupEvent that matters to
 * the case system becomes a report, delivered by one BullMQ job per event
 * (job id derived from pickup and seq, so a redelivered event queues nothing
 * new). Order per pickup is a property of the data, not of job order:
 *
 * - the pickup's history (written atomically with every state change, in seq
 *   order) is the source of a report, and the pickup keeps a cursor: the seq
 *   of the last report the case system acknowledged;
 * - the job for seq n delivers only when every reportable event before n is
 *   acknowledged (cursor = the previous reportable seq); otherwise it waits
 *   (delayed, no attempt used) and is woken by its predecessor;
 * - retries: exponential backoff with jitter up to `attempts`;
 * - idempotency: a report carries the event id (and the message id of the
 *   original notice); a repeat (a crash after the receiver answered) carries
 *   the same id, and never after a later report;
 * - dead letters: after the retry budget (or a rejection by the receiver) the
 *   report is parked with its error, the pickup's later reports wait behind
 *   it until an operator replays it.
 *
 * Any number of instances may run workers; a job of an instance that died is
 * taken over by BullMQ's stalled-job check after at most about 1.5 x
 * `lockDurationMs`.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { DelayedError, Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isoAt, systemClock, type Clock } from '../core/clock.js';
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

/**
 * SMS events (no state change) by reason; an accepted ready SMS is the transition to notified instead.
 * Not reported: `code_sent` (the SMS with a new code staff issued), like the `pickup.code` event
 * (`code_reissued`) itself: the state does not change and the case system has nothing to do about it.
 */
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
export function reportFor(event: PickupEvent, verificationMethod?: (boxId: string) => string | undefined): CaseSystemReport | undefined {
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
  const verification = status === 'collected' ? (verificationMethod?.(event.boxId) ?? VERIFICATION[event.reason]) : undefined;
  if (verification !== undefined) report.verificationMethod = verification;
  return report;
}

/**
 * Where reports come from and how far they got: the pickup's own history
 * (in seq order) and its report cursor. Implemented by the PickupStore.
 */
export interface ReportLedger {
  /** The pickup's events in seq order; empty once its retention ended. */
  history(pickupId: string): Promise<PickupEvent[]>;
  /** Seq of the last report the case system acknowledged; 0 before the first. */
  reportedSeq(pickupId: string): Promise<number>;
  /** Raises the cursor to `seq` (never lowers it). */
  markReported(pickupId: string, seq: number): Promise<void>;
}

export interface ReportQueueOptions {
  /** How a box verifies applicants, for `collected` reports (core/pickup-policy.ts verificationMethodOf). */
  verificationMethod?: (boxId: string) => string | undefined;
  /** Commands (dead letters). */
  redis: Redis;
  /** BullMQ connection for queue and worker (the worker needs maxRetriesPerRequest: null). */
  connection: ConnectionOptions;
  /** Key prefix for the queue's own keys, e.g. `dokubox:case-reports:`. */
  prefix: string;
  queueName: string;
  /** BullMQ key prefix (default BullMQ's `bull`). */
  bullPrefix?: string;
  ledger: ReportLedger;
  targets: (authority: string) => CallbackTarget | undefined;
  deliverer: ReportDeliverer;
  clock: Clock;
  logger: Logger;
  /** Delivery attempts per report before it becomes a dead letter. Default 10. */
  attempts?: number;
  /** First retry delay; doubles per attempt with jitter. Default 2000 ms. */
  backoffMs?: number;
  concurrency?: number;
  /** BullMQ job lock: a job of a dead worker is taken over after about 1.5 x this. Default 5000 ms. */
  lockDurationMs?: number;
  /** Longest wait of a report for its predecessor before it looks again (it is woken earlier when the predecessor is delivered). Default 10 s. */
  maxWaitMs?: number;
}

interface ReportJobData {
  pickupId: string;
  seq: number;
}

export interface ReportQueueEvents {
  /** A report reached the case system (for metrics). */
  delivered: [report: CaseSystemReport];
  /** A report became a dead letter. */
  dead: [dead: Omit<DeadLetter, 'waiting'>];
}

/** BullMQ job id of the report of one event (BullMQ refuses `:` in custom ids). */
export function reportJobId(pickupId: string, seq: number): string {
  return `r${createHash('sha256').update(`${pickupId}\n${seq}`).digest('hex').slice(0, 32)}`;
}

export class CaseSystemReportQueue extends EventEmitter<ReportQueueEvents> {
  /** The BullMQ queue (the dashboard's queue view reads it). */
  readonly queue: Queue<ReportJobData>;
  private worker: Worker<ReportJobData> | undefined;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly log: Logger;

  constructor(private readonly options: ReportQueueOptions) {
    super();
    this.attempts = options.attempts ?? 10;
    this.backoffMs = options.backoffMs ?? 2000;
    this.log = options.logger.child({ component: 'case-system-reports' });
    this.queue = new Queue<ReportJobData>(options.queueName, {
      connection: options.connection,
      ...(options.bullPrefix === undefined ? {} : { prefix: options.bullPrefix }),
      // BullMQ's own event log (diagnostics only): a bounded ring, not a record per report.
      streams: { events: { maxLen: 1000 } },
    });
    this.queue.on('error', (error) => this.log.warn({ err: { message: error.message } }, 'report queue connection error'));
  }

  private get deadKey(): string {
    return `${this.options.prefix}dead`;
  }

  /** Whether an event becomes a report for a configured case system. */
  private reportable(event: PickupEvent): boolean {
    return reportFor(event) !== undefined && this.options.targets(event.authority) !== undefined;
  }

  /** Subscribes to pickup events (the durable subscription redelivers on a throw). */
  attach(events: EventSubscriber, name = 'case-system-reports'): void {
    events.subscribe(name, (event) => this.enqueue(event));
  }

  /** Queues the report of an event; a repeated event queues nothing new. */
  async enqueue(event: PickupEvent): Promise<void> {
    if (reportFor(event) === undefined) return;
    if (this.options.targets(event.authority) === undefined) {
      this.log.debug({ authority: event.authority, eventId: event.eventId }, 'no callback configured for this authority');
      return;
    }
    await this.add(event.pickupId, event.seq);
  }

  private async add(pickupId: string, seq: number): Promise<void> {
    await this.queue.add(
      'report',
      { pickupId, seq },
      { jobId: reportJobId(pickupId, seq), attempts: this.attempts, backoff: { type: 'exponential', delay: this.backoffMs, jitter: 0.5 }, removeOnComplete: true, removeOnFail: 1000 },
    );
  }

  start(): void {
    if (this.worker) return;
    const lockDuration = this.options.lockDurationMs ?? 5000;
    this.worker = new Worker<ReportJobData>(this.options.queueName, (job, token) => this.process(job, token), {
      connection: this.options.connection,
      ...(this.options.bullPrefix === undefined ? {} : { prefix: this.options.bullPrefix }),
      concurrency: this.options.concurrency ?? 4,
      lockDuration,
      stalledInterval: Math.max(500, Math.round(lockDuration / 2)),
      // A job whose worker died (or stalled past its lock under load) runs again; delivering twice is harmless.
      maxStalledCount: 10,
    });
    this.worker.on('error', (error) => this.log.error({ err: { name: error.name, message: error.message } }, 'report worker error'));
    this.worker.on('failed', (job, error) => {
      if (job === undefined) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || /stalled more than allowable limit/.test(error.message);
      if (!final) return;
      // Not a refusal by the case system (those become dead letters in `process`): still no report may vanish.
      void this.deadLetterFailedJob(job, error).catch((failure: unknown) =>
        this.log.error({ pickupId: job.data.pickupId, seq: job.data.seq, err: failure instanceof Error ? failure.message : String(failure) }, 'failed report job not recorded as a dead letter'),
      );
    });
  }

  /** A report job BullMQ gave up on (internal errors, stalled too often) becomes a dead letter, visible and replayable. */
  private async deadLetterFailedJob(job: Job<ReportJobData>, error: Error): Promise<void> {
    const { pickupId, seq } = job.data;
    const event = (await this.options.ledger.history(pickupId)).find((e) => e.seq === seq);
    const report = event === undefined ? undefined : reportFor(event, this.options.verificationMethod);
    if (report === undefined || (await this.options.ledger.reportedSeq(pickupId)) >= seq) return;
    await this.park(report, `not delivered: ${error.message}`, job.attemptsMade);
  }

  /** Parks a report as the pickup's dead letter (its later reports wait behind it); a pickup has at most one. */
  private async park(report: CaseSystemReport, error: string, attempts: number): Promise<void> {
    const dead: Omit<DeadLetter, 'waiting'> = { pickupId: report.pickupId, report, error: error.slice(0, 500), attempts, failedAt: isoAt(this.options.clock) };
    if ((await this.options.redis.hsetnx(this.deadKey, report.pickupId, JSON.stringify(dead))) === 0) return;
    this.log.error({ pickupId: report.pickupId, eventId: report.eventId, attempts }, 'report moved to dead letters');
    this.emit('dead', dead);
  }

  private async process(job: Job<ReportJobData>, token: string | undefined): Promise<void> {
    const { pickupId, seq } = job.data;
    const { redis, ledger } = this.options;
    if ((await redis.hexists(this.deadKey, pickupId)) === 1) return; // parked behind a dead letter; a replay queues it again
    const [cursor, history] = await Promise.all([ledger.reportedSeq(pickupId), ledger.history(pickupId)]);
    if (cursor >= seq) return; // delivered already (a repeat after a crash)
    const event = history.find((e) => e.seq === seq);
    if (event === undefined) {
      this.log.warn({ pickupId, seq }, 'report source is gone (retention ended); nothing to deliver');
      return;
    }
    if (history.some((e) => e.seq > cursor && e.seq < seq && this.reportable(e))) {
      // An earlier report is still on its way: wait for it without using an attempt; it wakes us when delivered.
      // BullMQ schedules in wall-clock time, whatever the domain clock says.
      const now = systemClock.now();
      const delay = Math.min(this.options.maxWaitMs ?? 10_000, Math.max(100, Math.round((now - job.timestamp) / 2)));
      await job.moveToDelayed(now + delay, token);
      throw new DelayedError();
    }
    const report = reportFor(event, this.options.verificationMethod) as CaseSystemReport;
    const target = this.options.targets(report.authority);
    try {
      if (target === undefined) throw Object.assign(new Error('no callback configured for this authority'), { permanent: true });
      await this.options.deliverer.deliver(target, report);
    } catch (error) {
      const permanent = (error as { permanent?: boolean }).permanent === true;
      const attempt = job.attemptsMade + 1;
      const message = error instanceof Error ? error.message : 'delivery failed';
      if (!permanent && attempt < this.attempts) {
        this.log.warn({ pickupId, eventId: report.eventId, attempt, err: message.slice(0, 200) }, 'report delivery failed; will retry');
        throw error;
      }
      await this.park(report, message, attempt);
      return;
    }
    await ledger.markReported(pickupId, seq);
    this.log.info({ pickupId, eventId: report.eventId, status: report.status }, 'report delivered');
    this.emit('delivered', report);
    await this.wakeSuccessor(pickupId, seq);
  }

  /** Promotes the job of the pickup's next report if it is waiting for this one. */
  private async wakeSuccessor(pickupId: string, seq: number): Promise<void> {
    const next = (await this.options.ledger.history(pickupId)).find((e) => e.seq > seq && this.reportable(e));
    if (next === undefined) return;
    const job = await this.queue.getJob(reportJobId(pickupId, next.seq));
    if (job === undefined || !(await job.isDelayed())) return;
    // It may have left the delayed set in the meantime; then it runs anyway.
    await job.promote().catch(() => undefined);
  }

  /** Reports of a pickup not yet acknowledged, in order. */
  private async unreported(pickupId: string): Promise<PickupEvent[]> {
    const [cursor, history] = await Promise.all([this.options.ledger.reportedSeq(pickupId), this.options.ledger.history(pickupId)]);
    return history.filter((e) => e.seq > cursor && this.reportable(e));
  }

  /** Dead letters, oldest first. */
  async listDeadLetters(): Promise<DeadLetter[]> {
    const all = await this.options.redis.hgetall(this.deadKey);
    const out: DeadLetter[] = [];
    for (const value of Object.values(all)) {
      const dead = JSON.parse(value) as Omit<DeadLetter, 'waiting'>;
      out.push({ ...dead, waiting: Math.max(1, (await this.unreported(dead.pickupId)).length) });
    }
    return out.sort((a, b) => a.failedAt.localeCompare(b.failedAt));
  }

  /** Puts a pickup's dead report and every later one back in delivery (with a fresh retry budget); false when there is none. */
  async replayDeadLetter(pickupId: string): Promise<boolean> {
    const raw = await this.options.redis.hget(this.deadKey, pickupId);
    if (raw === null) return false;
    const dead = JSON.parse(raw) as Omit<DeadLetter, 'waiting'>;
    await this.options.redis.hdel(this.deadKey, pickupId);
    for (const event of await this.unreported(pickupId)) {
      // A job kept as failed (attempts used up by an internal error) would swallow the new one.
      const existing = await this.queue.getJob(reportJobId(pickupId, event.seq));
      if (existing !== undefined && (await existing.isFailed())) await existing.remove();
      await this.add(pickupId, event.seq);
    }
    this.log.info({ pickupId, eventId: dead.report.eventId }, 'dead letter replayed');
    return true;
  }

  /** For metrics: reports waiting in the queue and dead letters. */
  async counts(): Promise<{ jobs: number; deadLetters: number }> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed');
    return { jobs: (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0), deadLetters: await this.options.redis.hlen(this.deadKey) };
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
