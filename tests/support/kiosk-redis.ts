/** A Redis connection and a unique key prefix for one kiosk store test file; `close` deletes the prefix's keys. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

export interface KioskRedis {
  redis: Redis;
  ns: string;
  url: string;
  /** Every key under the prefix. */
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

export function kioskRedis(name: string, url = inject('redisUrl')): KioskRedis {
  const redis = new Redis(url);
  const ns = `t-${name}-${randomUUID().slice(0, 8)}`;
  const keys = async (): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${ns}:*`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found;
  };
  return {
    redis,
    ns,
    url,
    keys,
    async close() {
      const all = await keys();
      if (all.length > 0) await redis.del(...all);
      await redis.quit();
    },
  };
}
