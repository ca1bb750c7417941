/**
 * Exponential backoff with jitter for SMS retries: the n-th retry waits a
 * random time between half and all of `base * 2^(n-1)`, capped. The jitter
 * keeps many messages that failed together (gateway outage) from all
 * retrying in the same second.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 15 * 60_000 };

export function backoffDelay(attemptsMade: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, attemptsMade - 1);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
