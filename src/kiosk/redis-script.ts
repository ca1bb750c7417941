/**
 * Helpers shared by the kiosk stores: Lua scripts registered once per
 * connection (as src/store/pickup-store.ts does), SHA-256 of secrets, and the
 * id checks that keep key names unambiguous.
 */
import { hash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Registers `lua` as command `dokubox_<name>` on this connection (once) and returns it bound. Scripts take no KEYS; ARGV[1] is the namespace. */
export function defineScript(redis: Redis, name: string, lua: string): ScriptFn {
  const command = `dokubox_${name}`;
  if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: 0, lua });
  const fn = (redis as unknown as Record<string, ScriptFn>)[command];
  if (fn === undefined) throw new Error(`script ${name} was not registered`);
  return fn.bind(redis);
}

export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

const ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Ids that become parts of key names: no colons, no spaces, bounded. Programming errors, not user input. */
export function assertId(what: string, value: string): void {
  if (!ID.test(value)) throw new TypeError(`${what} must be 1-64 characters of [A-Za-z0-9_.-]`);
}

/** A flat [field, value, ...] reply as an object. */
export function pairs(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

/** Runs a MULTI or pipeline and returns its replies; the first failed command (or a lost connection) throws. */
export async function execAll(batch: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<unknown[]> {
  const replies = await batch.exec();
  if (replies === null) throw new Error('Connection is closed.');
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}
