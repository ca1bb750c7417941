/**
 * Delivers pickup events from the Redis Stream (written atomically by the
 * store's scripts: a transactional outbox) to named, durable subscribers.
 * Each subscriber is a consumer group: it sees every event at least once; an
 * event is acknowledged only after its handler succeeded, and a failing
 * handler holds back later events of that subscriber in this instance until
 * it succeeds.
 *
 * Several instances: each instance is one consumer per group, with a name of
 * its own and a heartbeat key that expires `deadAfterMs` after the instance
 * stopped beating. Every instance looks for consumers without a heartbeat
 * that still hold pending entries and claims those entries (so the work of a
 * killed instance is done within seconds, not after an idle timeout), and
 * removes such consumers once they hold nothing.
 *
 * The stream is the outbox, not the archive: entries that every group has
 * acknowledged are trimmed. The audit trail is each pickup's history list,
 * kept for the retention period (docs/data-model.md).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { systemClock } from '../core/clock.js';
import type { PickupEvent } from '../core/events.js';
import type { BatchEventHandler, EventHandler, EventSubscriber } from '../service/types.js';

interface Subscription {
  name: string;
  handler: EventHandler;
  /** Takes a read's events at once (subscribeBatch). */
  batch?: BatchEventHandler;
  connection?: Redis;
  loop?: Promise<void>;
  /** Entries may sit in this consumer's pending list (start, failed handler, claimed from a dead consumer). */
  checkPending: boolean;
}

export interface EventStreamOptions {
  redis: Redis;
  /** A new connection for one subscriber's blocking reads (no command timeout); default: a duplicate of `redis`. */
  blockingConnection?: () => Redis;
  ns: string;
  logger: Logger;
  blockMs?: number;
  /** Delay before a failed event is tried again. */
  retryDelayMs?: number;
  /**
   * After a batch smaller than a full read, wait this long before reading again, so that at light load
   * one read and one XACK serve several events instead of one each (default 50 ms; 0 reads at once).
   * Events wait at most this much longer; order and at-least-once are unchanged.
   */
  batchWindowMs?: number;
  /** How often this instance renews its heartbeat and looks for dead consumers. Default 1000 ms. */
  heartbeatMs?: number;
  /** A consumer whose heartbeat is older than this is dead; its entries are claimed. Default 3 x heartbeatMs. */
  deadAfterMs?: number;
  /** How often fully acknowledged entries are trimmed. Default 5000 ms. */
  trimEveryMs?: number;
  /** The consumer name (default: host, pid and a random suffix). */
  consumer?: string;
  /**
   * Consumer groups of subscribers that earlier versions had and this one has not: `init` removes them, since a
   * group nobody reads would hold back the trimming of the stream for good (docs/statistics.md: `stats`).
   */
  retiredGroups?: readonly string[];
}

type Entry = [string, string[]];

/** Entries one read takes at most. */
const READ_COUNT = 200;
type StreamReply = [string, Entry[]][] | null;

/** The next possible stream id after `id` (for "everything up to and including id is done"). */
function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}

/** The fields of an XINFO reply entry (a flat name/value list) by name. */
function infoFields(raw: unknown): Map<string, string | number> {
  const fields = raw as (string | number)[];
  const info = new Map<string, string | number>();
  for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1] as string | number);
  return info;
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map((p) => BigInt(p));
  const [bm, bs] = b.split('-').map((p) => BigInt(p));
  if (am !== bm) return (am ?? 0n) < (bm ?? 0n) ? -1 : 1;
  if (as === bs) return 0;
  return (as ?? 0n) < (bs ?? 0n) ? -1 : 1;
}

export class EventStream implements EventSubscriber {
  private readonly subscriptions = new Map<string, Subscription>();
  readonly consumer: string;
  private running = false;
  private readonly streamKey: string;
  private readonly heartbeatMs: number;
  private readonly deadAfterMs: number;
  private housekeeping: NodeJS.Timeout | undefined;
  private housekeepingRun: Promise<void> | undefined;
  private lastTrim = 0;

  constructor(private readonly o: EventStreamOptions) {
    this.streamKey = `${o.ns}:events`;
    this.consumer = o.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.heartbeatMs = o.heartbeatMs ?? 1000;
    this.deadAfterMs = o.deadAfterMs ?? this.heartbeatMs * 3;
  }

  private heartbeatKey(consumer: string): string {
    return `${this.o.ns}:consumers:${consumer}`;
  }

  subscribe(name: string, handler: EventHandler): void {
    if (this.subscriptions.has(name)) throw new Error(`subscriber '${name}' exists already`);
    this.subscriptions.set(name, { name, handler, checkPending: true });
  }

  subscribeBatch(name: string, batch: BatchEventHandler): void {
    if (this.subscriptions.has(name)) throw new Error(`subscriber '${name}' exists already`);
    this.subscriptions.set(name, { name, handler: (event) => batch([event]), batch, checkPending: true });
  }

  /** Creates the consumer groups; call before the first event may be written. */
  async init(): Promise<void> {
    for (const name of this.o.retiredGroups ?? []) {
      if (this.subscriptions.has(name)) continue;
      try {
        if (Number(await this.o.redis.xgroup('DESTROY', this.streamKey, name)) === 1) this.o.logger.info({ group: name }, 'removed the consumer group of a retired subscriber');
      } catch (error) {
        if (!String(error).includes('no such key') && !String(error).includes('requires the key to exist')) throw error;
      }
    }
    for (const sub of this.subscriptions.values()) {
      try {
        await this.o.redis.xgroup('CREATE', this.streamKey, sub.name, '$', 'MKSTREAM');
      } catch (error) {
        if (!String(error).includes('BUSYGROUP')) throw error;
      }
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const sub of this.subscriptions.values()) {
      sub.connection = this.o.blockingConnection?.() ?? this.o.redis.duplicate();
      sub.connection.on('error', () => undefined); // reported by the read loop
      // A read in flight when the connection dropped may have been served (the entries are pending for
      // us) without the reply reaching us; after every reconnect, look at our own pending entries first.
      sub.connection.on('ready', () => {
        sub.checkPending = true;
      });
      sub.loop = this.run(sub);
    }
    const tick = (): void => {
      if (!this.running) return;
      this.housekeepingRun = this.housekeep()
        .then(() => undefined)
        .catch((error: unknown) => this.o.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'event stream housekeeping failed; will try again'))
        .finally(() => {
          if (this.running) this.housekeeping = setTimeout(tick, this.heartbeatMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.housekeeping !== undefined) clearTimeout(this.housekeeping);
    await this.housekeepingRun;
    for (const sub of this.subscriptions.values()) sub.connection?.disconnect();
    await Promise.all([...this.subscriptions.values()].map((s) => s.loop?.catch(() => undefined)));
    // A clean stop: hand nothing over by timeout, our pending entries (if any) are claimed at once.
    await this.o.redis.del(this.heartbeatKey(this.consumer)).catch(() => undefined);
  }

  /**
   * Processes everything that is in the stream now, for every subscriber, and
   * returns how many events were handled. Tests and the simulated world use it
   * instead of waiting for the background loops.
   */
  async drain(): Promise<number> {
    let handled = 0;
    for (const sub of this.subscriptions.values()) {
      for (;;) {
        const batch = await this.read(this.o.redis, sub, false);
        if (batch.length === 0) break;
        const done = await this.handle(sub, batch);
        handled += done;
        if (done < batch.length) break;
      }
    }
    return handled;
  }

  /**
   * One round of housekeeping: renew this instance's heartbeat, claim the
   * pending entries of consumers whose heartbeat expired, and now and then
   * trim what every group has acknowledged. Runs on a timer once started;
   * tests call it directly.
   */
  async housekeep(now = systemClock.now()): Promise<{ claimed: number; trimmed: number }> {
    await this.o.redis.set(this.heartbeatKey(this.consumer), String(now), 'PX', this.deadAfterMs);
    let claimed = 0;
    for (const sub of this.subscriptions.values()) claimed += await this.claimFromDead(sub);
    let trimmed = 0;
    if (now - this.lastTrim >= (this.o.trimEveryMs ?? 5000)) {
      this.lastTrim = now;
      trimmed = await this.trim();
      // Safety net: now and then re-read our own pending entries, whatever left them there.
      for (const sub of this.subscriptions.values()) sub.checkPending = true;
    }
    return { claimed, trimmed };
  }

  private async claimFromDead(sub: Subscription): Promise<number> {
    const { redis } = this.o;
    let consumers: unknown[];
    try {
      consumers = (await redis.xinfo('CONSUMERS', this.streamKey, sub.name)) as unknown[];
    } catch (error) {
      if (String(error).includes('NOGROUP')) return 0;
      throw error;
    }
    let claimed = 0;
    for (const raw of consumers) {
      const info = infoFields(raw);
      const name = String(info.get('name'));
      if (name === this.consumer) continue;
      if ((await redis.exists(this.heartbeatKey(name))) === 1) continue;
      const pending = Number(info.get('pending') ?? 0);
      if (pending === 0) {
        // Forget a dead consumer that holds nothing (it would only clutter XINFO).
        if (Number(info.get('idle') ?? 0) > this.deadAfterMs) await redis.xgroup('DELCONSUMER', this.streamKey, sub.name, name);
        continue;
      }
      let fromThis = 0;
      for (;;) {
        // Idle at least one heartbeat: an entry another instance has just claimed is not taken from it again.
        const entries = (await redis.xpending(this.streamKey, sub.name, 'IDLE', this.heartbeatMs, '-', '+', 100, name)) as [string, string, number, number][];
        if (entries.length === 0) break;
        const ids = entries.map((e) => e[0]);
        const taken = (await redis.xclaim(this.streamKey, sub.name, this.consumer, this.heartbeatMs, ...ids, 'JUSTID')) as string[];
        fromThis += taken.length;
        if (taken.length > 0) sub.checkPending = true;
        if (entries.length < 100 || taken.length === 0) break;
      }
      claimed += fromThis;
      if (fromThis > 0) this.o.logger.info({ subscriber: sub.name, from: name, entries: fromThis }, 'claimed events of a stopped instance');
    }
    return claimed;
  }

  /** Removes entries that every consumer group has acknowledged; returns how many. */
  async trim(): Promise<number> {
    const { redis } = this.o;
    let groups: unknown[];
    try {
      groups = (await redis.xinfo('GROUPS', this.streamKey)) as unknown[];
    } catch (error) {
      if (String(error).includes('no such key')) return 0;
      throw error;
    }
    if (groups.length === 0) return 0;
    let keepFrom: string | undefined;
    for (const raw of groups) {
      const info = infoFields(raw);
      const name = String(info.get('name'));
      let needed = nextId(String(info.get('last-delivered-id') ?? '0-0'));
      if (Number(info.get('pending') ?? 0) > 0) {
        const summary = (await redis.xpending(this.streamKey, name)) as [number, string | null, string | null, unknown];
        if (summary[1] !== null && compareIds(summary[1], needed) < 0) needed = summary[1];
      }
      if (keepFrom === undefined || compareIds(needed, keepFrom) < 0) keepFrom = needed;
    }
    if (keepFrom === undefined) return 0;
    return Number(await redis.xtrim(this.streamKey, 'MINID', keepFrom));
  }

  private async read(connection: Redis, sub: Subscription, block: boolean): Promise<Entry[]> {
    // Own pending entries first (a failed handler, a restart, entries claimed from a dead consumer), then new ones.
    if (sub.checkPending) {
      const pending = (await connection.xreadgroup('GROUP', sub.name, this.consumer, 'COUNT', READ_COUNT, 'STREAMS', this.streamKey, '0')) as StreamReply;
      const mine = pending?.[0]?.[1] ?? [];
      if (mine.length > 0) return mine;
      sub.checkPending = false;
    }
    const fresh = block
      ? ((await connection.xreadgroup('GROUP', sub.name, this.consumer, 'COUNT', READ_COUNT, 'BLOCK', this.o.blockMs ?? 2000, 'STREAMS', this.streamKey, '>')) as StreamReply)
      : ((await connection.xreadgroup('GROUP', sub.name, this.consumer, 'COUNT', READ_COUNT, 'STREAMS', this.streamKey, '>')) as StreamReply);
    return fresh?.[0]?.[1] ?? [];
  }

  /** Handles entries in order; stops at the first failure. Acknowledges what succeeded; returns how many. */
  private async handle(sub: Subscription, entries: Entry[]): Promise<number> {
    if (sub.batch !== undefined) return this.handleBatch(sub, sub.batch, entries);
    const done: string[] = [];
    let failed = false;
    for (const [id, fields] of entries) {
      const index = fields.indexOf('e');
      const raw = index >= 0 ? fields[index + 1] : undefined;
      if (raw !== undefined) {
        const event = JSON.parse(raw) as PickupEvent;
        try {
          await sub.handler(event);
        } catch (error) {
          this.o.logger.warn({ subscriber: sub.name, eventId: event.eventId, err: error instanceof Error ? error.message : String(error) }, 'event handler failed; will retry');
          failed = true;
          break;
        }
      }
      done.push(id);
    }
    // One acknowledgement per batch: a crash before it repeats handled events (at least once), never loses one.
    if (done.length > 0) await this.o.redis.xack(this.streamKey, sub.name, ...done);
    if (failed) sub.checkPending = true;
    return done.length;
  }

  /** A batch handler gets all events of the read; all are acknowledged when it returns, none when it throws. */
  private async handleBatch(sub: Subscription, batch: BatchEventHandler, entries: Entry[]): Promise<number> {
    const events: PickupEvent[] = [];
    for (const [, fields] of entries) {
      const index = fields.indexOf('e');
      const raw = index >= 0 ? fields[index + 1] : undefined;
      if (raw !== undefined) events.push(JSON.parse(raw) as PickupEvent);
    }
    try {
      if (events.length > 0) await batch(events);
    } catch (error) {
      this.o.logger.warn({ subscriber: sub.name, events: events.length, err: error instanceof Error ? error.message : String(error) }, 'event handler failed; will retry');
      sub.checkPending = true;
      return 0;
    }
    await this.o.redis.xack(this.streamKey, sub.name, ...entries.map(([id]) => id));
    return entries.length;
  }

  private async run(sub: Subscription): Promise<void> {
    const connection = sub.connection as Redis;
    while (this.running) {
      try {
        const batch = await this.read(connection, sub, true);
        if (batch.length === 0) continue;
        const done = await this.handle(sub, batch);
        if (done < batch.length) await new Promise((resolve) => setTimeout(resolve, this.o.retryDelayMs ?? 1000));
        else if (batch.length < READ_COUNT && (this.o.batchWindowMs ?? 50) > 0 && this.running) await new Promise((resolve) => setTimeout(resolve, this.o.batchWindowMs ?? 50));
      } catch (error) {
        if (!this.running) return;
        sub.checkPending = true;
        this.o.logger.error({ subscriber: sub.name, err: error instanceof Error ? error.message : String(error) }, 'event stream read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, this.o.retryDelayMs ?? 1000));
      }
    }
  }
}
