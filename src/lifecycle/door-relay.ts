/**
 * With several service instances only the holder of a gateway's lease talks
 * to its lock boards. A door command that reaches another instance is
 * relayed over Redis pub/sub to the holder, which runs it and answers. The
 * holder subscribes to a gateway's command channel only while it holds the
 * lease, so a command published to nobody fails at once (lease in
 * failover) instead of waiting.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Timers } from '../core/clock.js';
import { DokuboxError, type ErrorCode } from '../core/errors.js';

export interface DoorCommand {
  purpose: 'loading' | 'pickup' | 'retrieval';
  compartment: string;
  pickupId: string | null;
  actor: string;
}

type Handler = (command: DoorCommand) => Promise<void>;

interface Reply {
  ok: boolean;
  code?: ErrorCode;
  message?: string;
}

export class DoorRelay {
  private connection: Redis | undefined;
  private readonly handlers = new Map<string, Handler>();
  private readonly waiting = new Map<string, (reply: Reply) => void>();

  constructor(
    private readonly redis: Redis,
    private readonly ns: string,
    private readonly timers: Timers,
    private readonly logger: Logger,
    private readonly replyTimeoutMs: number,
    /** Opens the pub/sub connection (default: a duplicate of `redis`). */
    private readonly subscriberConnection: () => Redis = () => redis.duplicate(),
  ) {}

  /** The subscriber connection, opened on first use (most deployments run one instance). */
  private get subscriber(): Redis {
    if (this.connection === undefined) {
      const connection = this.subscriberConnection();
      connection.on('error', (err: Error) => this.logger.error({ err: err.message }, 'door relay connection error'));
      connection.on('message', (channel: string, message: string) => void this.onMessage(channel, message));
      this.connection = connection;
    }
    return this.connection;
  }

  private commandChannel(boxId: string, gateway: string): string {
    return `${this.ns}:locker:cmd:${boxId}:${gateway}`;
  }

  /** Answers commands for a gateway (while this instance holds its lease). */
  async serve(boxId: string, gateway: string, handler: Handler): Promise<void> {
    const channel = this.commandChannel(boxId, gateway);
    this.handlers.set(channel, handler);
    await this.subscriber.subscribe(channel);
  }

  async unserve(boxId: string, gateway: string): Promise<void> {
    const channel = this.commandChannel(boxId, gateway);
    this.handlers.delete(channel);
    await this.subscriber.unsubscribe(channel);
  }

  /** Sends a command to the gateway's holder and resolves or rejects with its outcome. */
  async request(boxId: string, gateway: string, command: DoorCommand): Promise<void> {
    const id = randomUUID();
    const replyChannel = `${this.ns}:locker:reply:${id}`;
    const reply = new Promise<Reply>((resolve) => this.waiting.set(replyChannel, resolve));
    await this.subscriber.subscribe(replyChannel);
    const timer = this.timers.setTimer(this.replyTimeoutMs, () => this.waiting.get(replyChannel)?.({ ok: false, code: 'DEPENDENCY_UNAVAILABLE', message: 'The lock controller did not answer in time; try again.' }));
    try {
      const receivers = await this.redis.publish(this.commandChannel(boxId, gateway), JSON.stringify({ replyChannel, command }));
      if (receivers === 0) {
        throw new DokuboxError('DEPENDENCY_UNAVAILABLE', 'No service instance is connected to this part of the box right now (taking over); try again in a few seconds.', {
          context: { boxId, gateway },
        });
      }
      const answer = await reply;
      if (!answer.ok) throw new DokuboxError(answer.code ?? 'INTERNAL', answer.message ?? 'The door command failed.', { context: { boxId, gateway } });
    } finally {
      timer.cancel();
      this.waiting.delete(replyChannel);
      await this.subscriber.unsubscribe(replyChannel).catch(() => undefined);
    }
  }

  private async onMessage(channel: string, message: string): Promise<void> {
    const waiter = this.waiting.get(channel);
    if (waiter !== undefined) {
      waiter(JSON.parse(message) as Reply);
      return;
    }
    const handler = this.handlers.get(channel);
    if (handler === undefined) return;
    const { replyChannel, command } = JSON.parse(message) as { replyChannel: string; command: DoorCommand };
    let reply: Reply;
    try {
      await handler(command);
      reply = { ok: true };
    } catch (error) {
      reply = error instanceof DokuboxError ? { ok: false, code: error.code, message: error.message } : { ok: false, code: 'INTERNAL', message: 'The door command failed on the controlling instance.' };
      if (!(error instanceof DokuboxError)) this.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'relayed door command failed');
    }
    await this.redis.publish(replyChannel, JSON.stringify(reply));
  }

  async close(): Promise<void> {
    this.connection?.disconnect();
    this.connection = undefined;
  }
}
