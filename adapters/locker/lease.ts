/**
 * Exactly one service instance talks to each lock gateway: a TCP-RS485
 * gateway serves one bus, and two masters on one RS485 bus garble each
 * other's frames. A Redis lease per gateway decides who that is: acquired
 * with SET NX PX, renewed by a compare-and-set Lua script, released on stop.
 * A standby keeps trying and takes over once the holder stops renewing
 * (crashed, partitioned), i.e. within one TTL plus one renew interval.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../src/core/clock.js';

const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface LeaseTiming {
  /** How long a lease lives without renewal; a standby takes over at most this long after the holder died. */
  ttlMs: number;
  /** How often the holder renews and a standby retries; well below ttlMs (default ttlMs / 3). */
  renewEveryMs?: number;
}

export interface GatewayLeaseOptions extends LeaseTiming {
  redis: Redis;
  /** Full Redis key, e.g. `dokubox:locker:lease:md-foyer:gw1`. */
  key: string;
  /** Unique id of this service instance (host name + pid + random). */
  owner: string;
  logger: Logger;
  clock?: Clock;
}

/**
 * Events: `acquired`, `lost` (reason: `renew_refused` | `expired` | `released`),
 * `attempt` (held: boolean, after every acquire/renew round; for tests and metrics).
 */
export class GatewayLease extends EventEmitter {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private holding = false;
  private everHeld = false;
  private heldUntil = 0;
  private running = false;
  private readonly clock: Clock;
  private readonly renewEveryMs: number;
  private readonly log: Logger;

  constructor(private readonly options: GatewayLeaseOptions) {
    super();
    if (!(options.ttlMs > 0)) throw new RangeError('lease ttlMs must be positive');
    this.clock = options.clock ?? systemClock;
    this.renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(options.ttlMs / 3));
    if (this.renewEveryMs >= options.ttlMs) throw new RangeError('lease renewEveryMs must be shorter than ttlMs');
    this.log = options.logger.child({ component: 'gateway-lease', key: options.key });
  }

  get held(): boolean {
    return this.holding;
  }

  get key(): string {
    return this.options.key;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop();
  }

  /**
   * Stops renewing. With `release` (default) the lease is deleted so a
   * standby takes over on its next attempt; without it the lease runs out
   * as if this instance had died.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    if (this.holding) {
      this.holding = false;
      if (options.release ?? true) {
        try {
          await this.options.redis.eval(RELEASE_SCRIPT, 1, this.options.key, this.options.owner);
        } catch (error) {
          this.log.warn({ event: 'locker.lease.release_failed', err: errMessage(error) }, 'lease not released; it expires by itself');
        }
      }
      this.emit('lost', 'released');
    }
  }

  /** One acquire-or-renew round; the loop calls it every renew interval. */
  async attempt(): Promise<void> {
    const startedAt = this.clock.now();
    const { redis, key, owner, ttlMs } = this.options;
    try {
      if (this.holding) {
        const renewed = Number(await this.bounded(redis.eval(RENEW_SCRIPT, 1, key, owner, ttlMs))) === 1;
        // Count from before the command was sent: the lease may have been extended earlier than the reply came.
        if (renewed) this.heldUntil = startedAt + ttlMs;
        else this.lose('renew_refused');
      } else {
        const acquired = (await this.bounded(redis.set(key, owner, 'PX', ttlMs, 'NX'))) === 'OK';
        if (acquired && this.running) {
          this.heldUntil = startedAt + ttlMs;
          this.holding = true;
          this.log[this.everHeld ? 'info' : 'debug']({ event: 'locker.lease.acquired' }, 'gateway lease acquired');
          this.everHeld = true;
          this.emit('acquired');
        } else if (acquired) {
          // stop() came while the SET was on its way: hand the lease straight back instead of blocking a standby for a TTL.
          await this.bounded(redis.eval(RELEASE_SCRIPT, 1, key, owner));
        }
      }
    } catch (error) {
      this.log.warn({ event: 'locker.lease.redis_error', err: errMessage(error) }, 'lease round failed');
    }
    // Without a confirmed renewal the lease may already belong to someone else: give up before it runs out.
    if (this.holding && this.clock.now() >= this.heldUntil - this.renewEveryMs / 2) this.lose('expired');
    this.emit('attempt', this.holding);
  }

  /** ioredis queues commands while disconnected; a round must end in time so the expiry check still runs. */
  private bounded<T>(command: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis did not answer within the renew interval')), this.renewEveryMs);
    });
    command.catch(() => undefined);
    return Promise.race([command, timeout]).finally(() => clearTimeout(timer));
  }

  private lose(reason: string): void {
    if (!this.holding) return;
    this.holding = false;
    this.log.warn({ event: 'locker.lease.lost', reason }, 'gateway lease lost');
    this.emit('lost', reason);
  }

  private loop(): void {
    if (!this.running) return;
    this.inFlight = this.attempt().finally(() => {
      this.inFlight = null;
      if (this.running) this.timer = setTimeout(() => this.loop(), this.renewEveryMs);
    });
  }
}

export interface GatewayLeasesOptions extends LeaseTiming {
  redis: Redis;
  /** Key prefix of the deployment, e.g. `dokubox`. */
  keyPrefix: string;
  boxId: string;
  gatewayIds: string[];
  owner: string;
  logger: Logger;
  clock?: Clock;
}

/** Something that can be told to take or give up a gateway (the Kerong adapter with `autoConnect: false`). */
export interface GatewayHolder {
  connectGateway(gatewayId: string): void;
  disconnectGateway(gatewayId: string): Promise<void>;
}

/** One lease per gateway of a box. Events: `acquired` (gatewayId), `lost` (gatewayId, reason). */
export class GatewayLeases extends EventEmitter {
  readonly leases = new Map<string, GatewayLease>();

  constructor(options: GatewayLeasesOptions) {
    super();
    for (const id of options.gatewayIds) {
      const lease = new GatewayLease({
        redis: options.redis,
        key: `${options.keyPrefix}:locker:lease:${options.boxId}:${id}`,
        owner: options.owner,
        ttlMs: options.ttlMs,
        renewEveryMs: options.renewEveryMs,
        logger: options.logger,
        clock: options.clock,
      });
      lease.on('acquired', () => this.emit('acquired', id));
      lease.on('lost', (reason: string) => this.emit('lost', id, reason));
      this.leases.set(id, lease);
    }
  }

  held(gatewayId: string): boolean {
    return this.leases.get(gatewayId)?.held ?? false;
  }

  start(): void {
    for (const lease of this.leases.values()) lease.start();
  }

  async stop(options: { release?: boolean } = {}): Promise<void> {
    await Promise.all([...this.leases.values()].map((l) => l.stop(options)));
  }

  /**
   * Connects the holder to each gateway while this instance holds its lease.
   * Returns a function that unbinds. Stop the holder before releasing the
   * leases on shutdown, so two instances never talk to one bus at once.
   */
  bind(holder: GatewayHolder, logger: Logger): () => void {
    const onAcquired = (id: string): void => holder.connectGateway(id);
    const onLost = (id: string): void => {
      holder.disconnectGateway(id).catch((error: unknown) => logger.error({ event: 'locker.lease.disconnect_failed', gateway: id, err: errMessage(error) }, 'disconnect after lease loss failed'));
    };
    this.on('acquired', onAcquired);
    this.on('lost', onLost);
    for (const [id, lease] of this.leases) if (lease.held) holder.connectGateway(id);
    return () => {
      this.off('acquired', onAcquired);
      this.off('lost', onLost);
    };
  }
}

function errMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
