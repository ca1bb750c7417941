/**
 * The world's time when the middleware runs with SIMULATED_TIME: the shared
 * world clock in the middleware's Redis (src/store/world-clock.ts). The
 * console and the scenarios change its speed or jump; every middleware
 * instance follows within a pub/sub message.
 */
import { Redis } from 'ioredis';
import { WorldClock, WorldClockError, type WorldClockChange } from '../src/store/world-clock.js';
import { WorldError, type WorldTime } from './world.js';

export class RedisWorldTime implements WorldTime {
  private constructor(
    private readonly clock: WorldClock,
    private readonly connections: Redis[],
  ) {}

  /** Connects to the Redis the middleware uses (`url`) under its key prefix (`ns`); `initial` starts a new world's clock. */
  static async connect(url: string, ns: string, initial?: WorldClockChange): Promise<RedisWorldTime> {
    const connections: Redis[] = [];
    const connection = (): Redis => {
      const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
      // A lost connection is retried by ioredis; the world keeps its last known state meanwhile.
      redis.on('error', () => undefined);
      connections.push(redis);
      return redis;
    };
    const clock = await WorldClock.connect({ redis: connection(), ns, subscriberConnection: connection, ...(initial === undefined ? {} : { initial }) });
    return new RedisWorldTime(clock, connections);
  }

  now(): number {
    return this.clock.now();
  }

  state(): { now: number; speed: number; simulated: boolean } {
    return { now: this.clock.now(), speed: this.clock.state().speed, simulated: true };
  }

  async set(change: { speed?: number; at?: number | string }): Promise<void> {
    try {
      await this.clock.set(change);
    } catch (error) {
      if (error instanceof WorldClockError) throw new WorldError(error.code, error.message);
      throw error;
    }
  }

  onChange(listener: () => void): () => void {
    return this.clock.onChange(() => listener());
  }

  async close(): Promise<void> {
    await this.clock.close();
    for (const redis of this.connections) redis.disconnect();
  }
}
