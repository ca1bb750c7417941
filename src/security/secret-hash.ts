/**
 * What the dashboard's passwords and the kiosk's staff PINs share: scrypt
 * with bounded parameters (a planted hash must not cost minutes or
 * gigabytes), a comparison that does the same work against a dummy hash
 * when there is nothing to compare with, and the Lua that counts a sign-in
 * attempt up front and locks after too many (one script per check, so
 * parallel guesses cannot pass the limit). The stored formats stay their
 * own (src/accounts/accounts.ts, src/kiosk/staff-accounts.ts).
 */
import { scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** Parameters a stored hash may name. */
const LIMITS = { logN: { min: 10, max: 20 }, r: 32, p: 16 } as const;

export function scryptParamsAllowed(N: number, r: number, p: number): boolean {
  const logN = Math.log2(N);
  return Number.isInteger(logN) && logN >= LIMITS.logN.min && logN <= LIMITS.logN.max && Number.isInteger(r) && r >= 1 && r <= LIMITS.r && Number.isInteger(p) && p >= 1 && p <= LIMITS.p;
}

export function scryptKey(secret: string, salt: Buffer, keylen: number, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const { N, r, p } = params;
  return new Promise((resolve, reject) => {
    // scrypt needs 128 * N * r * p bytes, more than node's default maxmem at N = 2^15: allow what the parameters need.
    scrypt(secret, salt, keylen, { N, r, p, maxmem: 128 * N * r * p + 16 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/**
 * Whether `secret` matches `stored`; without a stored hash it is compared
 * with `dummy` (same parameters and sizes as a real one) and answers false,
 * so an unknown account costs the same work as a known one.
 */
export async function scryptMatches(secret: string, stored: ScryptHash | undefined, dummy: ScryptHash): Promise<boolean> {
  const hash = stored ?? dummy;
  const key = await scryptKey(secret, hash.salt, hash.key.length, hash);
  return timingSafeEqual(key, hash.key) && stored !== undefined;
}

/**
 * Lua: `count_attempt(lk, now, maxf, lockMs, memory)` -> ('locked', until)
 * while the hash `lk` holds a running lock; otherwise counts this attempt
 * as a failure (a success clears `lk` afterwards), starts a lock of
 * `lockMs` at the `maxf`-th and returns ('go', until or 0). Failures older
 * than `memory` ms are forgotten.
 */
export const COUNT_ATTEMPT_LUA = `
local function count_attempt(lk, now, maxf, lockMs, memory)
  local h = redis.call('HMGET', lk, 'lockedUntil', 'failures', 'lastAt')
  local lockedUntil = tonumber(h[1]) or 0
  if lockedUntil > now then return 'locked', lockedUntil end
  local failures = tonumber(h[2]) or 0
  local lastAt = tonumber(h[3]) or 0
  if lastAt > 0 and now - lastAt >= memory then failures = 0 end
  failures = failures + 1
  local locks = 0
  if failures >= maxf then
    locks = now + lockMs
    failures = 0
  end
  redis.call('HSET', lk, 'failures', failures, 'lastAt', now, 'lockedUntil', locks)
  redis.call('PEXPIRE', lk, math.max(memory, lockMs))
  return 'go', locks
end
`;
