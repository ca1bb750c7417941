/**
 * Delivers pickup events from the Redis Stream (written atomically by the
 * store's scripts: a transactional outbox) to named, durable subscribers.
 * Each subscriber is a consumer group: it sees every event at least once, in
 * stream order; an event is acknowledged only after its handler succeeded,
 * and a failing handler blocks later events of that subscriber until it
 * succeeds (order is preserved). Entries left pending by a dead instance are
 * claimed after `claimIdleMs`.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PickupEvent } from '../core/events.js';
import type { EventHandler, EventSubscriber } from '../service/types.js';

interface Subscription {
  name: string;
  handler: EventHandler;
  connection?: Redis;
  loop?: Promise<void>;
}

export interface EventStreamOptions {
  redis: Redis;
  /** A new connection for one subscriber's blocking reads (no command timeout); default: a duplicate of `redis`. */
  blockingConnection?: () => Redis;
  ns: string;
  logger: Logger;
  blockMs?: number;
  claimIdleMs?: number;
  /** Delay before a failed event is tried again. */
  retryDelayMs?: number;
}

type StreamReply = [string, [string, string[]][]][] | null;

export class EventStream implements EventSubscriber {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly consumer = `${hostname()}-${process.pid}`;
  private running = false;
  private readonly streamKey: string;

  constructor(private readonly o: EventStreamOptions) {
    this.streamKey = `${o.ns}:events`;
  }

  subscribe(name: string, handler: EventHandler): void {
    if (this.subscriptions.has(name)) throw new Error(`subscriber '${name}' exists already`);
    this.subscriptions.set(name, { name, handler });
  }

  /** Creates the consumer groups; call before the first event may be written. */
  async init(): Promise<void> {
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
      sub.loop = this.run(sub);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const sub of this.subscriptions.values()) sub.connection?.disconnect();
    await Promise.all([...this.subscriptions.values()].map((s) => s.loop?.catch(() => undefined)));
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

  private async read(connection: Redis, sub: Subscription, block: boolean): Promise<[string, string[]][]> {
    // Own pending entries first (a failed handler, or a restart), then new ones.
    const pending = (await connection.xreadgroup('GROUP', sub.name, this.consumer, 'COUNT', 100, 'STREAMS', this.streamKey, '0')) as StreamReply;
    const mine = pending?.[0]?.[1] ?? [];
    if (mine.length > 0) return mine;
    const claimed = (await connection.xautoclaim(this.streamKey, sub.name, this.consumer, this.o.claimIdleMs ?? 60_000, '0-0', 'COUNT', 100)) as [string, [string, string[]][]];
    if (claimed[1].length > 0) return claimed[1];
    const fresh = block
      ? ((await connection.xreadgroup('GROUP', sub.name, this.consumer, 'COUNT', 100, 'BLOCK', this.o.blockMs ?? 2000, 'STREAMS', this.streamKey, '>')) as StreamReply)
      : ((await connection.xreadgroup('GROUP', sub.name, this.consumer, 'COUNT', 100, 'STREAMS', this.streamKey, '>')) as StreamReply);
    return fresh?.[0]?.[1] ?? [];
  }

  /** Handles entries in order; stops at the first failure. Returns how many succeeded. */
  private async handle(sub: Subscription, entries: [string, string[]][]): Promise<number> {
    let done = 0;
    for (const [id, fields] of entries) {
      const index = fields.indexOf('e');
      const raw = index >= 0 ? fields[index + 1] : undefined;
      if (raw !== undefined) {
        const event = JSON.parse(raw) as PickupEvent;
        try {
          await sub.handler(event);
        } catch (error) {
          this.o.logger.warn({ subscriber: sub.name, eventId: event.eventId, err: error instanceof Error ? error.message : String(error) }, 'event handler failed; will retry');
          return done;
        }
      }
      await this.o.redis.xack(this.streamKey, sub.name, id);
      done += 1;
    }
    return done;
  }

  private async run(sub: Subscription): Promise<void> {
    const connection = sub.connection as Redis;
    while (this.running) {
      try {
        const batch = await this.read(connection, sub, true);
        if (batch.length === 0) continue;
        const done = await this.handle(sub, batch);
        if (done < batch.length) await new Promise((resolve) => setTimeout(resolve, this.o.retryDelayMs ?? 1000));
      } catch (error) {
        if (!this.running) return;
        this.o.logger.error({ subscriber: sub.name, err: error instanceof Error ? error.message : String(error) }, 'event stream read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, this.o.retryDelayMs ?? 1000));
      }
    }
  }
}
