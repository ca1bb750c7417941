/**
 * Sessions of people signed in to the dashboard. The token (32 random bytes,
 * base64url) lives only in the browser's cookie; Redis keeps its SHA-256.
 * Each session carries a CSRF token (a synchronizer token for forms and
 * fetch calls). A session ends after `idleMs` without use (sliding) and
 * `absoluteMs` after sign-in, whichever comes first, read with the caller's
 * `now`; TTLs only collect garbage. A session of an account that was
 * removed or disabled is refused (and deleted) at its next use, and it
 * always carries the account's current role.
 *
 * Keys (ns = the deployment's key prefix; see ./keys.ts):
 *   ns:accounts:session:{sha256(token)}   hash  username, authority, role, csrf, createdAt, lastSeen
 *   ns:accounts:sessions-of:{username}    set   token hashes of the person's sessions
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { defineScript, sha256Hex, type ScriptFn } from '../kiosk/redis-script.js';
import { normaliseUsername, type PersonAccount, type PersonRole } from './accounts.js';
import { ACCOUNT_JSON_LUA, accountKeys } from './keys.js';

export interface PersonSession {
  username: string;
  authority: string;
  role: PersonRole;
  /** The account's display name, if it has one (read from the account at every use). */
  name?: string;
  /** The synchronizer token forms (`csrf` field) and fetch calls (`x-csrf-token` header) send back. */
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

export interface PersonSessionsOptions {
  /** A session unused this long ends (ms); every use extends it. Default 30 minutes. */
  idleMs?: number;
  /** A session ends this long after sign-in, used or not (ms). Default 8 hours. */
  absoluteMs?: number;
}

const MINUTE = 60_000;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * ARGV: ns, tokenHash, username, authority, role, csrf, now, ttlMs
 * Starts a session and forgets ended sessions of the same person from the set.
 */
const START = `
local ns, th, username, authority, role, csrf, now, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
local sk = ns .. ':accounts:session:' .. th
local set = ns .. ':accounts:sessions-of:' .. username
for _, other in ipairs(redis.call('SMEMBERS', set)) do
  if redis.call('EXISTS', ns .. ':accounts:session:' .. other) == 0 then redis.call('SREM', set, other) end
end
redis.call('HSET', sk, 'username', username, 'authority', authority, 'role', role, 'csrf', csrf, 'createdAt', now, 'lastSeen', now)
redis.call('PEXPIRE', sk, ttl)
redis.call('SADD', set, th)
if redis.call('PTTL', set) < ttl then redis.call('PEXPIRE', set, ttl) end
return 1
`;

/**
 * ARGV: ns, tokenHash, now, idleMs, absoluteMs
 * -> {username, authority, role, csrf, createdAt, lastSeen, name or ''} or empty.
 * Expired sessions and those of removed or disabled accounts are deleted.
 */
const GET = `
local ns, th, now, idle, absolute = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
${ACCOUNT_JSON_LUA}
local sk = ns .. ':accounts:session:' .. th
local s = redis.call('HMGET', sk, 'username', 'authority', 'csrf', 'createdAt', 'lastSeen')
if not s[1] then return {} end
local createdAt, lastSeen = tonumber(s[4]) or 0, tonumber(s[5]) or 0
local ends = function()
  redis.call('DEL', sk)
  redis.call('SREM', ns .. ':accounts:sessions-of:' .. s[1], th)
  return {}
end
if now - lastSeen >= idle or now - createdAt >= absolute then return ends() end
local authority, json = account_json(ns, s[1])
if not json or authority ~= s[2] then return ends() end
local a = cjson.decode(json)
if a.disabled then return ends() end
local seen = math.max(now, lastSeen)
redis.call('HSET', sk, 'lastSeen', seen, 'role', a.role)
redis.call('PEXPIRE', sk, math.max(1, math.min(idle, createdAt + absolute - now)))
local name = ''
if type(a.name) == 'string' then name = a.name end
return {s[1], s[2], a.role, s[3], tostring(createdAt), tostring(seen), name}
`;

/** ARGV: ns, username -> number of sessions ended. */
const END_ALL = `
local ns, username = ARGV[1], ARGV[2]
local set = ns .. ':accounts:sessions-of:' .. username
local ended = 0
for _, th in ipairs(redis.call('SMEMBERS', set)) do
  ended = ended + redis.call('DEL', ns .. ':accounts:session:' .. th)
end
redis.call('DEL', set)
return ended
`;

/** Compares a presented CSRF token with the session's in constant time. */
export function csrfMatches(session: Pick<PersonSession, 'csrf'>, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class PersonSessions {
  readonly idleMs: number;
  readonly absoluteMs: number;
  private readonly scripts: Record<'start' | 'get' | 'endAll', ScriptFn>;
  private readonly keys: ReturnType<typeof accountKeys>;

  constructor(
    private readonly redis: Redis,
    private readonly ns: string,
    options: PersonSessionsOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 30 * MINUTE;
    this.absoluteMs = options.absoluteMs ?? 8 * 60 * MINUTE;
    if (!(this.idleMs > 0 && this.absoluteMs > 0)) throw new TypeError('idleMs and absoluteMs must be positive');
    this.keys = accountKeys(ns);
    this.scripts = {
      start: defineScript(redis, 'accounts_session_start', START),
      get: defineScript(redis, 'accounts_session_get', GET),
      endAll: defineScript(redis, 'accounts_session_end_all', END_ALL),
    };
  }

  /** Starts a session for a verified account; the token goes into the cookie, only its SHA-256 is stored. */
  async start(account: Pick<PersonAccount, 'username' | 'authority' | 'role' | 'name'>, now: number): Promise<{ token: string; session: PersonSession }> {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    await this.scripts.start(this.ns, sha256Hex(token), account.username, account.authority, account.role, csrf, now, this.absoluteMs);
    const name = account.name === undefined ? {} : { name: account.name };
    return { token, session: { username: account.username, authority: account.authority, role: account.role, ...name, csrf, createdAt: now, lastSeen: now } };
  }

  /** The session of a token, its idle time reset to `now`; undefined (and deleted) when unknown, expired, or its account is gone or disabled. */
  async get(token: string | undefined, now: number): Promise<PersonSession | undefined> {
    if (token === undefined || !TOKEN.test(token)) return undefined;
    const r = (await this.scripts.get(this.ns, sha256Hex(token), now, this.idleMs, this.absoluteMs)) as string[];
    const [username, authority, role, csrf, createdAt, lastSeen, name] = r;
    if (username === undefined || authority === undefined || csrf === undefined || (role !== 'clerk' && role !== 'admin')) return undefined;
    return { username, authority, role, ...(name ? { name } : {}), csrf, createdAt: Number(createdAt), lastSeen: Number(lastSeen) };
  }

  /** Ends one session (sign-out); true when it existed. */
  async end(token: string | undefined): Promise<boolean> {
    if (token === undefined || !TOKEN.test(token)) return false;
    const th = sha256Hex(token);
    const username = await this.redis.hget(this.keys.session(th), 'username');
    if (username === null) return false;
    await this.redis.multi().del(this.keys.session(th)).srem(this.keys.sessionsOf(username), th).exec();
    return true;
  }

  /** Ends every session of a person (password changed, account disabled); returns how many. */
  async endAllOf(typedUsername: string): Promise<number> {
    const username = normaliseUsername(typedUsername);
    if (username === undefined) return 0;
    return Number(await this.scripts.endAll(this.ns, username));
  }
}
