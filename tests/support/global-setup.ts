import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startPrivateRedis, type PrivateRedis } from '../../src/cli/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: PrivateRedis | undefined;

/** Tests run against a private redis-server on a free port unless REDIS_URL is set. */
export async function setup(project: TestProject): Promise<void> {
  const external = process.env.REDIS_URL;
  if (external !== undefined && external !== '') {
    project.provide('redisUrl', external);
    return;
  }
  redis = await startPrivateRedis();
  project.provide('redisUrl', redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
