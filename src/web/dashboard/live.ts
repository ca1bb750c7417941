/**
 * What changes at a box, as it happens, for the dashboard's server-sent
 * events: one reader per instance tails the event stream (pickups), the
 * compartment stream (staff maintenance) and the alarm stream with a
 * blocking XREAD, and hands each change to the pages watching that box.
 * No consumer group: a page only needs what happens while it is open (it
 * loads the full state first), so nothing is acknowledged or kept for it.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface BoxChange {
  kind: 'pickup' | 'compartment' | 'alarm';
  boxId: string;
  compartment: string | null;
  /** The raw entry (ids and states only: the streams hold no personal data). */
  entry: Record<string, unknown>;
}

type Listener = (change: BoxChange) => void;

/**
 * Resolves when the connection is ready (at once when it is), rejects when it
 * is closed for good. Errors in between (a reconnect refused while Redis is
 * away) do not end the wait.
 */
function whenReady(connection: Redis): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = (): void => {
      connection.off('end', onEnd);
      resolve();
    };
    const onEnd = (): void => {
      connection.off('ready', onReady);
      reject(new Error('the live box feed\'s Redis connection was closed'));
    };
    connection.once('ready', onReady);
    connection.once('end', onEnd);
  });
}

type StreamReply = [string, [string, string[]][]][] | null;

export class LiveBoxFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private connection: Redis | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly streams: { key: string; kind: BoxChange['kind']; field: string }[];

  constructor(private readonly o: { connection: () => Redis; ns: string; logger: Logger; blockMs?: number }) {
    this.streams = [
      { key: `${o.ns}:events`, kind: 'pickup', field: 'e' },
      { key: `${o.ns}:compartment-events`, kind: 'compartment', field: 'c' },
      { key: `${o.ns}:alarms`, kind: 'alarm', field: 'a' },
    ];
  }

  /**
   * Calls `listener` for every change at `boxId` from the moment the returned
   * promise resolves (the reader's position in the streams is fixed by then,
   * so a page that reads the box's state afterwards misses nothing) until the
   * function it resolves to is called.
   */
  async subscribe(boxId: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(boxId);
    if (set === undefined) this.listeners.set(boxId, (set = new Set()));
    set.add(listener);
    const unsubscribe = (): void => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(boxId);
    };
    if (!this.running) this.start();
    try {
      await this.ensurePositioned();
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  private position: (() => Promise<void>) | undefined;
  /** The current attempt to find the streams' ends; forgotten when it fails, so that the next caller tries again. */
  private positioned: Promise<void> | undefined;

  private ensurePositioned(): Promise<void> {
    if (this.positioned === undefined) {
      const attempt = this.position?.() ?? Promise.reject(new Error('the live box feed is closed'));
      this.positioned = attempt;
      attempt.catch(() => {
        if (this.positioned === attempt) this.positioned = undefined;
      });
    }
    return this.positioned;
  }

  private start(): void {
    this.running = true;
    const connection = (this.connection = this.o.connection());
    const ids = this.streams.map(() => '0-0');
    // Start after the newest entry of each stream (explicit ids: '$' would lose entries between two reads).
    // While Redis is away, pages wait for it; they are not failed.
    this.position = async () => {
      await whenReady(connection);
      for (const [index, stream] of this.streams.entries()) {
        const [last] = await connection.xrevrange(stream.key, '+', '-', 'COUNT', 1);
        ids[index] = last?.[0] ?? '0-0';
      }
    };
    this.positioned = undefined;
    this.loop = (async () => {
      while (this.running) {
        // Never read before the streams' ends are known: from the beginning, every past change would go to the pages.
        try {
          await this.ensurePositioned();
        } catch (error) {
          if (!this.running) return;
          this.o.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'live box feed: finding the streams\' ends failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, 1000));
          continue;
        }
        try {
          const reply = (await connection.xread('COUNT', 500, 'BLOCK', this.o.blockMs ?? 5000, 'STREAMS', ...this.streams.map((s) => s.key), ...ids)) as StreamReply;
          for (const [key, entries] of reply ?? []) {
            const index = this.streams.findIndex((s) => s.key === key);
            const stream = this.streams[index];
            if (stream === undefined) continue;
            for (const [id, fields] of entries) {
              ids[index] = id;
              this.dispatch(stream, fields);
            }
          }
        } catch (error) {
          if (!this.running) return;
          this.o.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'live box feed: reading the streams failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    })();
  }

  private dispatch(stream: { kind: BoxChange['kind']; field: string }, fields: string[]): void {
    const raw = fields[fields.indexOf(stream.field) + 1];
    if (raw === undefined) return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return;
    }
    const boxId = typeof entry.boxId === 'string' ? entry.boxId : '';
    const compartment = typeof entry.compartment === 'string' ? entry.compartment : null;
    for (const listener of this.listeners.get(boxId) ?? []) listener({ kind: stream.kind, boxId, compartment, entry });
  }

  async close(): Promise<void> {
    this.running = false;
    this.position = undefined;
    this.connection?.disconnect();
    await this.loop?.catch(() => undefined);
  }
}
