/**
 * The SMS queue: one BullMQ job per pickup and kind (for `code`, per code
 * generation). Job data carries only the pickup id and the kind (and the
 * generation); the phone number and the code are read through the injected
 * reader when the job runs, so Redis never holds them and a pickup that
 * ended in the meantime sends nothing.
 *
 * No duplicate by design: the job id is derived from pickup and kind (and,
 * for `code`, the code generation: each new code is a message of its own),
 * so a second `notify` is ignored while the job exists. Completed jobs are
 * not kept; instead each message (pickup and kind, or pickup, `code` and
 * generation) has one small state record for `keepDays`: `sending` just
 * before the request goes to the gateway, then the final outcome (`sent`
 * with the gateway's message id, `failed`, `skipped`, `uncertain`) and
 * whether it was reported. A retried, stalled or re-added job reads it
 * first: after `sent` it only finishes the bookkeeping; after `sending`
 * without an outcome (the worker died while the gateway had the request)
 * the message may or may not have gone out, which is treated like a timeout
 * after sending: not sent again unless `retryAmbiguous` (see docs/sms.md).
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { isSmsSendError, type DeliveryReport, type SmsFailureReason, type SmsGateway, type SmsSendResult } from '../../adapters/sms/types.js';
import type { OpeningHours } from '../core/calendar.js';
import { realMsOf, systemClock, type Clock, type TimelineChanges, type Timers } from '../core/clock.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { DEFAULT_QUIET_HOURS, quietUntil, validateQuietHours, type QuietHours } from './quiet-hours.js';
import { PER_GENERATION_SMS_KINDS, renderSms, SMS_KINDS, SmsTemplateError, type SmsKind, type SmsTemplateSet } from './templates.js';

/** What the worker needs to send one SMS, read at send time. */
export interface SmsRecipient {
  /** E.164. */
  mobile: string;
  /** Required for `ready`, `reminder` and `code`. */
  code?: string;
  language: string;
  location: string;
  /** Pickup deadline, epoch ms. */
  deadline: number;
  hours: OpeningHours;
  timeZone: string;
}

export interface SmsReader {
  /**
   * The data for the SMS of `kind`, or undefined when there is nothing to
   * send any more: for `ready` and `reminder` once the pickup has ended
   * (collected, expired, cancelled, deleted); for `expired` and `cancelled`
   * once the phone number has been deleted; for `code` (with its
   * `generation`) once the pickup has ended or has a newer code. The core
   * should delete the number only after the final message's outcome arrived
   * through `onOutcome`.
   */
  loadForSms(pickupId: string, kind: SmsKind, generation?: number): Promise<SmsRecipient | undefined>;
}

export type SmsOutcome =
  | { status: 'sent'; gateway: string; providerMessageId: string; parts: number; encoding: 'gsm' | 'ucs2'; language: string }
  | { status: 'skipped'; reason: 'pickup_ended' }
  | { status: 'failed'; reason: SmsFailureReason | 'template' | 'internal'; providerCode?: string; attempts: number }
  /** The gateway may or may not have taken the message (a timeout after sending, or the worker died while sending); not retried unless `retryAmbiguous`. */
  | { status: 'uncertain'; reason: 'timeout' | 'interrupted'; attempts: number };

/**
 * Called at least once per final outcome of a job (again after a crash
 * between the outcome and the job's completion): make it idempotent.
 * A throwing callback makes the job retry; the sent marker prevents a resend.
 */
export type SmsOutcomeHandler = (pickupId: string, kind: SmsKind, outcome: SmsOutcome, generation?: number) => Promise<void> | void;

export interface SmsQueueOptions {
  /** ioredis options of the queue's connections (the product's come from redisOptions(settings, 'worker')), or a redis:// URL. */
  connection: RedisOptions | string;
  gateway: SmsGateway;
  reader: SmsReader;
  onOutcome: SmsOutcomeHandler;
  templates: SmsTemplateSet;
  /** Alphanumeric sender id (at most 11 characters). */
  sender: string;
  logger: Logger;
  /**
   * Domain time (quiet hours, `notBefore`); default the system clock. A
   * simulated clock (SIMULATED_TIME) also says how long its delays take in
   * real time (`realMs`), and announces its jumps and new speeds
   * (`onChange`): then the waiting messages are promoted and re-check their
   * time, so that they go out at the right simulated moment.
   */
  clock?: Clock & Partial<Timers> & Partial<TimelineChanges>;
  /** The wall clock BullMQ schedules delays in; only tests change it. */
  schedulerClock?: Clock;
  /** BullMQ queue name; default `sms`. */
  queueName?: string;
  /** Redis key prefix; default `dokubox`. */
  prefix?: string;
  /** At most `max` messages per `durationMs` over all workers; default 10 per second. */
  rateLimit?: { max: number; durationMs: number };
  /** Default 20:00-08:00 in the box's time zone; `null` sends at any hour. */
  quietHours?: QuietHours | null;
  /** Attempts for transient failures; default 12 (the last 33-66 minutes after the first with the default backoff). */
  attempts?: number;
  backoff?: BackoffPolicy;
  /** Retry a send whose outcome is unknown (timeout)? Default false: no duplicate, maybe no SMS. */
  retryAmbiguous?: boolean;
  concurrency?: number;
  /** How long jobs and sent markers are kept, in days; longer than any pickup lives. Default 60. */
  keepDays?: number;
  /** Worker lock (default 5000 ms) and stalled-job check (default half the lock): a dead worker's job is taken over within about 1.5 x the lock. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  random?: () => number;
}

interface SmsJobData {
  pickupId: string;
  kind: SmsKind;
  /** The code generation, for the kinds sent once per generation (`code`). */
  generation?: number;
  /** Not to be sent before this domain time (ms): a later send, or the end of quiet hours. The worker checks it. */
  notBefore?: number;
}

interface SentRecord {
  gateway: string;
  providerMessageId: string;
  parts: number;
  encoding: 'gsm' | 'ucs2';
  language: string;
}

/** What is known of the message of one pickup and kind (the state record). */
type SmsState =
  | { s: 'sending' }
  | ({ s: 'sent'; reported?: 1 } & SentRecord)
  | { s: 'final'; outcome: Exclude<SmsOutcome, { status: 'sent' }>; reported?: 1 };

/** The message's name within its pickup: the kind, and for per-generation kinds the generation (`code.2`). */
function messageName(kind: SmsKind, generation: number | undefined): string {
  return generation === undefined ? kind : `${kind}.${generation}`;
}

/** Per-generation kinds need a generation (a positive integer), the others must not have one. */
function checkGeneration(kind: SmsKind, generation: number | undefined): void {
  if (PER_GENERATION_SMS_KINDS.includes(kind)) {
    if (generation === undefined || !Number.isSafeInteger(generation) || generation < 1) throw new Error(`the SMS kind '${kind}' is sent once per code generation: pass a generation (1, 2, ...)`);
  } else if (generation !== undefined) {
    throw new Error(`the SMS kind '${kind}' is sent once per pickup: it takes no generation`);
  }
}

/** BullMQ refuses `:` in custom job ids, so the pickup id is URI-encoded and joined with a dot (`p-1.ready`, `p-1.code.2`). */
export function smsJobId(pickupId: string, kind: SmsKind, generation?: number): string {
  return `${encodeURIComponent(pickupId)}.${messageName(kind, generation)}`;
}

/** seven.io allows `[A-Za-z0-9._@-]`, at most 64, for the echoed reference. */
export function smsForeignId(pickupId: string, kind: SmsKind, generation?: number): string {
  const safe = pickupId.replace(/[^A-Za-z0-9._@-]/g, '-');
  const name = messageName(kind, generation);
  return `${safe.slice(0, 63 - name.length)}.${name}`;
}

const BACKOFF_TYPE = 'sms-jitter';

export class SmsQueue {
  readonly queue: Queue<SmsJobData>;
  private worker: Worker<SmsJobData> | undefined;
  private readonly redis: Redis;
  /** Connections handed to BullMQ: it does not close connections it was given, so we do. */
  private readonly owned: Redis[] = [];
  private readonly clock: Clock & Partial<Timers> & Partial<TimelineChanges>;
  private readonly schedulerClock: Clock;
  private readonly stopFollowingClock: () => void;
  private readonly keyPrefix: string;
  private readonly queueName: string;
  private readonly prefix: string;
  private readonly attempts: number;
  private readonly keepSeconds: number;
  private readonly quietHours: QuietHours | undefined;
  private readonly random: () => number;

  constructor(private readonly options: SmsQueueOptions) {
    this.clock = options.clock ?? systemClock;
    this.schedulerClock = options.schedulerClock ?? systemClock;
    this.queueName = options.queueName ?? 'sms';
    this.prefix = options.prefix ?? 'dokubox';
    this.keyPrefix = `${this.prefix}:${this.queueName}:sms`;
    this.attempts = options.attempts ?? 12;
    this.keepSeconds = Math.round((options.keepDays ?? 60) * 86_400);
    this.quietHours = options.quietHours === null ? undefined : (options.quietHours ?? DEFAULT_QUIET_HOURS);
    if (this.quietHours) validateQuietHours(this.quietHours);
    this.random = options.random ?? Math.random;
    this.redis = typeof options.connection === 'string' ? new Redis(options.connection, { maxRetriesPerRequest: null }) : new Redis({ ...options.connection, maxRetriesPerRequest: null });
    this.redis.on('error', (error) => options.logger.warn({ err: { message: error.message } }, 'sms redis connection error'));
    this.queue = new Queue<SmsJobData>(this.queueName, {
      connection: this.connection(),
      // BullMQ's own event log (diagnostics only): a bounded ring, not a record per message.
      streams: { events: { maxLen: 1000 } },
      prefix: this.prefix,
      defaultJobOptions: {
        attempts: this.attempts,
        backoff: { type: BACKOFF_TYPE },
        // The state record remembers the outcome; a failed job stays a while for operators.
        removeOnComplete: true,
        removeOnFail: { age: 7 * 86_400, count: 1000 },
      },
    });
    this.queue.on('error', (error) => options.logger.error({ err: error }, 'sms queue connection error'));
    this.stopFollowingClock =
      this.clock.onChange?.(() => {
        void this.promoteWaiting().catch((error: unknown) => options.logger.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'waiting sms not promoted after a change of the world clock'));
      }) ?? (() => {});
  }

  /**
   * The simulated clock jumped or changed speed: every message that waits
   * for a domain time (`notBefore`) runs now and re-checks it, waiting again
   * (for the new real delay) while it is still early. Retries after a
   * failure wait in real time and are left alone. Returns how many were promoted.
   */
  async promoteWaiting(): Promise<number> {
    // Only in the simulated world, where the queue is small: all of them at once.
    const jobs = await this.queue.getDelayed();
    let promoted = 0;
    for (const job of jobs) {
      if (job.data.notBefore === undefined) continue;
      try {
        await job.promote();
        promoted += 1;
      } catch {
        // Moved on meanwhile (promoted by another instance, removed, running).
      }
    }
    return promoted;
  }

  private connection(): Redis {
    const connection = this.redis.duplicate();
    connection.on('error', (error) => this.options.logger.warn({ err: { message: error.message } }, 'sms redis connection error'));
    this.owned.push(connection);
    return connection;
  }

  /**
   * Queues the SMS of `kind` for a pickup (for `code`: of code `generation`).
   * Returns `duplicate` when a job of that kind (and generation) exists
   * already (queued, running, done or failed).
   */
  async notify(pickupId: string, kind: SmsKind, options: { notBefore?: number; generation?: number } = {}): Promise<'queued' | 'duplicate'> {
    if (!SMS_KINDS.includes(kind)) throw new Error(`unknown SMS kind '${String(kind)}'`);
    checkGeneration(kind, options.generation);
    const jobId = smsJobId(pickupId, kind, options.generation);
    // A message of this kind that ran already (its job is gone) is not queued again.
    if ((await this.redis.exists(this.stateKey(pickupId, kind, options.generation))) === 1) return 'duplicate';
    const before = await this.queue.getJobState(jobId);
    // BullMQ counts in real time; a simulated clock says how long its delay takes.
    const delay = options.notBefore === undefined ? 0 : realMsOf(this.clock, options.notBefore - this.clock.now());
    const data: SmsJobData = {
      pickupId,
      kind,
      ...(options.generation === undefined ? {} : { generation: options.generation }),
      ...(options.notBefore === undefined ? {} : { notBefore: options.notBefore }),
    };
    // BullMQ ignores an add for a job id it knows.
    await this.queue.add(kind, data, { jobId, delay });
    return before === 'unknown' ? 'queued' : 'duplicate';
  }

  /**
   * Withdraws a message that has not started yet (typically a reminder when
   * the pickup ended before it was sent), so that `notify` can queue it
   * anew. A message that is running or done stays as it is.
   */
  async cancel(pickupId: string, kind: SmsKind, generation?: number): Promise<'removed' | 'not_found' | 'already_processed'> {
    const jobId = smsJobId(pickupId, kind, generation);
    const job = await this.queue.getJob(jobId);
    if (!job) return 'not_found';
    const state = await job.getState();
    if (state !== 'delayed' && state !== 'waiting' && state !== 'prioritized') return 'already_processed';
    try {
      await job.remove();
    } catch {
      // It became active between the two calls (removing a locked job fails).
      return 'already_processed';
    }
    return 'removed';
  }

  /** The pickup and kind (and code generation) a gateway message id belongs to (for delivery reports). */
  async lookupMessage(providerMessageId: string): Promise<{ pickupId: string; kind: SmsKind; generation?: number } | undefined> {
    const value = await this.redis.get(`${this.keyPrefix}:msg:${providerMessageId}`);
    if (value === null) return undefined;
    return JSON.parse(value) as { pickupId: string; kind: SmsKind; generation?: number };
  }

  /**
   * Hands each delivery report of the gateway to `handler` with the pickup
   * and kind it belongs to. A report can overtake the bookkeeping of its own
   * send by a few milliseconds (the gateway answers the send and fires the
   * webhook at the same time), so an unknown id is looked up again a few
   * times before the report is dropped as not ours. Returns an unsubscribe
   * function.
   */
  listenForDeliveryReports(
    gateway: SmsGateway,
    handler: (pickupId: string, kind: SmsKind, report: DeliveryReport) => Promise<void> | void,
    options: { retries?: number; waitMs?: number } = {},
  ): () => void {
    const retries = options.retries ?? 5;
    const waitMs = options.waitMs ?? 200;
    return gateway.onDeliveryReport(async (report) => {
      for (let attempt = 0; attempt <= retries; attempt += 1) {
        const ref = await this.lookupMessage(report.providerMessageId);
        if (ref) {
          await handler(ref.pickupId, ref.kind, report);
          return;
        }
        if (attempt < retries) await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
      this.options.logger.info({ gateway: report.gateway, providerMessageId: report.providerMessageId, status: report.status }, 'delivery report for an unknown message ignored');
    });
  }

  /** Starts the worker in this process. */
  start(): Worker<SmsJobData> {
    if (this.worker) return this.worker;
    const options = this.options;
    const policy = options.backoff ?? DEFAULT_BACKOFF;
    const worker = new Worker<SmsJobData>(this.queueName, (job, token) => this.process(job, token), {
      connection: this.connection(),
      prefix: this.prefix,
      concurrency: options.concurrency ?? 4,
      limiter: { max: options.rateLimit?.max ?? 10, duration: options.rateLimit?.durationMs ?? 1_000 },
      settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, policy, this.random) },
      // A job of a worker that died is taken over after at most about 1.5 x the lock.
      lockDuration: options.lockDurationMs ?? 5_000,
      stalledInterval: options.stalledIntervalMs ?? Math.max(500, Math.round((options.lockDurationMs ?? 5_000) / 2)),
      // A worker that keeps dying on one job (e.g. out of memory) gets a few chances before the job fails.
      maxStalledCount: 3,
    });
    worker.on('error', (error) => options.logger.error({ err: error }, 'sms worker error'));
    worker.on('failed', (job, error) => {
      options.logger.warn({ jobId: job?.id, kind: job?.data.kind, attempts: job?.attemptsMade, err: { message: error.message, name: error.name } }, 'sms job attempt failed');
      // BullMQ fails a job that stalled too often without running our code: report it here.
      if (job && /stalled more than allowable limit/.test(error.message)) {
        void this.reportStalled(job).catch((reportError: unknown) => options.logger.error({ err: reportError, jobId: job.id }, 'sms outcome of a stalled job not reported'));
      }
    });
    this.worker = worker;
    return worker;
  }

  /** Stops the worker; `force` abandons running jobs (they are picked up again as stalled). */
  async stopWorker(force = false): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.close(force);
  }

  async close(): Promise<void> {
    this.stopFollowingClock();
    await this.stopWorker();
    await this.queue.close();
    for (const connection of [...this.owned.splice(0), this.redis]) await connection.quit().catch(() => connection.disconnect());
  }

  private stateKey(pickupId: string, kind: SmsKind, generation?: number): string {
    return `${this.keyPrefix}:state:${smsJobId(pickupId, kind, generation)}`;
  }

  private jobStateKey(job: Job<SmsJobData>): string {
    return this.stateKey(job.data.pickupId, job.data.kind, job.data.generation);
  }

  private async readState(job: Job<SmsJobData>): Promise<SmsState | undefined> {
    const raw = await this.redis.get(this.jobStateKey(job));
    return raw === null ? undefined : (JSON.parse(raw) as SmsState);
  }

  private async writeState(job: Job<SmsJobData>, state: SmsState): Promise<void> {
    await this.redis.set(this.jobStateKey(job), JSON.stringify(state), 'EX', this.keepSeconds);
  }

  /** Records a final outcome, reports it, and notes that it was reported (a re-run reports only what was not). */
  private async finish(job: Job<SmsJobData>, outcome: Exclude<SmsOutcome, { status: 'sent' }>): Promise<void> {
    await this.writeState(job, { s: 'final', outcome });
    await this.report(job, outcome);
    await this.writeState(job, { s: 'final', outcome, reported: 1 });
  }

  private async reportStalled(job: Job<SmsJobData>): Promise<void> {
    const state = await this.readState(job);
    if (state?.s === 'sent') return this.reportSent(job, state);
    if (state?.s === 'final') {
      if (state.reported !== 1) await this.finish(job, state.outcome);
      return;
    }
    if (state?.s === 'sending') return this.finish(job, { status: 'uncertain', reason: 'interrupted', attempts: job.attemptsMade + 1 });
    return this.finish(job, { status: 'failed', reason: 'internal', attempts: job.attemptsMade + 1 });
  }

  private async reportSent(job: Job<SmsJobData>, state: Extract<SmsState, { s: 'sent' }>): Promise<void> {
    const { s: _s, reported, ...record } = state;
    if (reported === 1) return;
    await this.report(job, { status: 'sent', ...record });
    await this.writeState(job, { ...state, reported: 1 });
  }

  private async report(job: Job<SmsJobData>, outcome: SmsOutcome): Promise<void> {
    await this.options.onOutcome(job.data.pickupId, job.data.kind, outcome, job.data.generation);
  }

  private async process(job: Job<SmsJobData>, token: string | undefined): Promise<{ outcome: SmsOutcome['status'] }> {
    const { pickupId, kind, generation, notBefore } = job.data;
    const log = this.options.logger.child({ jobId: job.id, kind });

    if (notBefore !== undefined && notBefore > this.clock.now()) {
      // Promoted early (the simulated clock changed) or BullMQ's real time ran ahead of the domain's: wait the rest.
      await this.waitUntil(job, token, notBefore);
    }

    const state = await this.readState(job);
    if (state?.s === 'sent') {
      // Accepted by the gateway in an earlier run: only the bookkeeping may be left.
      log.info({ providerMessageId: state.providerMessageId }, 'sms already sent, not sending again');
      await this.reportSent(job, state);
      return { outcome: 'sent' };
    }
    if (state?.s === 'final') {
      if (state.reported !== 1) await this.finish(job, state.outcome);
      return { outcome: state.outcome.status };
    }
    if (state?.s === 'sending' && !this.options.retryAmbiguous) {
      // An earlier run died while the gateway had the request: it may have sent the message.
      log.warn('sms worker stopped while sending; the message may have gone out, not sent again to avoid a duplicate');
      await this.finish(job, { status: 'uncertain', reason: 'interrupted', attempts: job.attemptsMade + 1 });
      throw new UnrecoverableError('the worker stopped while the gateway had the request');
    }

    const recipient = await this.options.reader.loadForSms(pickupId, kind, generation);
    if (!recipient) {
      log.info('pickup has ended (or, for a new code, has a newer one), sms skipped');
      await this.finish(job, { status: 'skipped', reason: 'pickup_ended' });
      return { outcome: 'skipped' };
    }

    const until = quietUntil(this.clock.now(), recipient.timeZone, this.quietHours);
    if (until !== undefined) {
      log.info({ waitMs: until - this.clock.now() }, 'quiet hours, sms delayed');
      // The end of quiet hours goes into the job: a jump of the simulated clock promotes it, and it re-checks.
      await job.updateData({ ...job.data, notBefore: until });
      await this.waitUntil(job, token, until);
    }

    let text: string;
    let language: string;
    try {
      const rendered = renderSms(this.options.templates, kind, recipient.language, recipient);
      text = rendered.text;
      language = rendered.language;
    } catch (error) {
      if (!(error instanceof SmsTemplateError)) throw error;
      log.error({ err: { message: error.message } }, 'sms could not be rendered');
      await this.finish(job, { status: 'failed', reason: 'template', attempts: job.attemptsMade + 1 });
      throw new UnrecoverableError(error.message);
    }

    // From here until the gateway answers, a crash leaves the outcome unknown.
    await this.writeState(job, { s: 'sending' });
    let result: SmsSendResult;
    try {
      result = await this.options.gateway.send({ to: recipient.mobile, text, sender: this.options.sender, foreignId: smsForeignId(pickupId, kind, generation) });
    } catch (error) {
      return this.handleSendError(job, error, log);
    }

    // Bookkeeping first, in one round trip: from here on no run sends again.
    const sent: Extract<SmsState, { s: 'sent' }> = { s: 'sent', gateway: this.options.gateway.name, ...result, language };
    await this.recordSent(job, sent, log);
    log.info({ providerMessageId: result.providerMessageId, parts: result.parts, encoding: result.encoding, gateway: sent.gateway }, 'sms accepted by gateway');
    await this.reportSent(job, sent);
    return { outcome: 'sent' };
  }

  /** Moves the job back to the delayed set until domain time `at` (in real time: the clock's `realMs`). */
  private async waitUntil(job: Job<SmsJobData>, token: string | undefined, at: number): Promise<never> {
    await job.moveToDelayed(this.schedulerClock.now() + realMsOf(this.clock, at - this.clock.now()), token);
    throw new DelayedError();
  }

  /**
   * Writes the `sent` record and the delivery-report index. The message is out, so a short Redis
   * hiccup must not turn it into an unknown outcome: a few tries before giving up (the record then
   * still says `sending`, and the job ends as `uncertain` rather than sending twice).
   */
  private async recordSent(job: Job<SmsJobData>, sent: Extract<SmsState, { s: 'sent' }>, log: Logger): Promise<void> {
    // The delivery-report index: what lookupMessage returns (the generation only for per-generation kinds).
    const { pickupId, kind, generation } = job.data;
    const ref = generation === undefined ? { pickupId, kind } : { pickupId, kind, generation };
    for (let attempt = 1; ; attempt += 1) {
      try {
        const replies = await this.redis
          .multi()
          .set(this.jobStateKey(job), JSON.stringify(sent), 'EX', this.keepSeconds)
          .set(`${this.keyPrefix}:msg:${sent.providerMessageId}`, JSON.stringify(ref), 'EX', this.keepSeconds)
          .exec();
        const failed = replies === null ? new Error('Connection is closed.') : replies.find(([error]) => error !== null)?.[0];
        if (failed) throw failed;
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        log.warn({ attempt, err: { message: error instanceof Error ? error.message : String(error) } }, 'sms sent but not yet recorded; trying again');
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }

  private async handleSendError(job: Job<SmsJobData>, error: unknown, log: Logger): Promise<never> {
    const attempts = job.attemptsMade + 1;
    const last = attempts >= (job.opts.attempts ?? this.attempts);
    const clear = (): Promise<number> => this.redis.del(this.jobStateKey(job));
    if (!isSmsSendError(error)) {
      await clear();
      if (last) await this.finish(job, { status: 'failed', reason: 'internal', attempts });
      throw error;
    }
    const logged = { reason: error.reason, providerCode: error.providerCode, retryable: error.retryable, attempts };
    if (error.ambiguous && !this.options.retryAmbiguous) {
      log.warn(logged, 'sms gateway outcome unknown, not retried to avoid a duplicate');
      await this.finish(job, { status: 'uncertain', reason: 'timeout', attempts });
      throw new UnrecoverableError(error.message);
    }
    // The gateway answered (or the request provably did not go out): nothing was sent.
    await clear();
    if (error.reason === 'throttled' && this.worker) {
      // Pause the whole queue, not just this job: the gateway speaks for all of them.
      log.warn(logged, 'sms gateway throttles, pausing sends');
      await this.worker.rateLimit(error.retryAfterMs ?? 1_000);
      throw Worker.RateLimitError();
    }
    if (!error.retryable) {
      log.warn(logged, 'sms refused permanently');
      await this.finish(job, { status: 'failed', reason: error.reason, attempts, ...(error.providerCode === undefined ? {} : { providerCode: error.providerCode }) });
      throw new UnrecoverableError(error.message);
    }
    if (last) {
      log.warn(logged, 'sms failed, attempts used up');
      await this.finish(job, { status: 'failed', reason: error.reason, attempts, ...(error.providerCode === undefined ? {} : { providerCode: error.providerCode }) });
    } else {
      log.info(logged, 'sms failed, will retry');
    }
    throw error;
  }
}
