/**
 * Real service instances as child processes for tests of guarantees across
 * instances and crashes (simulator/processes.ts starts them). Every instance
 * of one test shares the environment from `instanceEnv` (one Redis, one key
 * prefix, the same secrets and API keys as the in-process harness).
 */
import { randomUUID } from 'node:crypto';
import { testEnv } from './harness.js';

export { serviceCommand, startServiceProcess, type ServiceProcess } from '../../simulator/processes.js';

/** Environment shared by all instances of one test; `overrides` win. */
export function instanceEnv(redisUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  // Several processes share one key prefix (and secrets); warnings only, the tests read answers, not logs.
  return testEnv(redisUrl, { HOST: '127.0.0.1', REDIS_KEY_PREFIX: `mp-${randomUUID().slice(0, 8)}`, SMS_QUIET_HOURS: 'off', LOG_LEVEL: 'warn', ...overrides });
}
