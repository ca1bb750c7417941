/**
 * People who sign in to the office's dashboard: clerks and admins of an
 * authority. Usernames are unique across authorities (a global index), so a
 * sign-in needs only username and password. Passwords are stored only as
 * scrypt hashes (N=2^15, r=8, p=1, 16-byte salt, 64-byte key) in a
 * self-describing string; failed sign-ins are limited per username (also for
 * usernames that do not exist, which cost the same scrypt work). Times are
 * the caller's `now` (ms); TTLs only collect garbage. Nothing here logs or
 * returns a password or a hash.
 *
 * Keys (ns = the deployment's key prefix; see ./keys.ts):
 *   ns:accounts:usernames               hash  username -> authority
 *   ns:accounts:authority:{authority}   hash  username -> JSON {username, authority, role, name?, disabled?, createdAt, password}
 *   ns:accounts:lock:{username}         hash  failures, lastAt, lockedUntil
 */
import { randomBytes } from 'node:crypto';
import { COUNT_ATTEMPT_LUA, scryptKey, scryptMatches, scryptParamsAllowed, type ScryptHash } from '../security/secret-hash.js';
import type { Redis } from 'ioredis';
import { DokuboxError } from '../core/errors.js';
import { assertId, defineScript, type ScriptFn } from '../kiosk/redis-script.js';
import { ACCOUNT_JSON_LUA, accountKeys } from './keys.js';

export const PERSON_ROLES = ['clerk', 'admin'] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

export interface PersonAccount {
  username: string;
  authority: string;
  role: PersonRole;
  name?: string;
  disabled?: boolean;
  /** ms since the epoch. */
  createdAt: number;
}

export type PersonVerification = { ok: true; account: PersonAccount } | { ok: false; locked?: { until: number } };

export interface PersonAccountsOptions {
  /** Failed sign-ins (per username) that lock it. Default 5. */
  maxFailures?: number;
  /** How long a lock lasts (ms). Default 15 minutes. */
  lockMs?: number;
  /** Failures are forgotten this long after the last attempt (ms). Default 24 hours. */
  failureMemoryMs?: number;
}

export const USERNAME = /^[a-z0-9._-]{3,64}$/;
export const PASSWORD_MIN_LENGTH = 12;
/** Longer passwords are refused (scrypt work stays bounded; a passphrase fits easily). */
export const PASSWORD_MAX_LENGTH = 256;

const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 64;
const MINUTE = 60_000;


/** Normalises a username as typed (trimmed, lowercased); undefined when it cannot be one. */
export function normaliseUsername(typed: string): string | undefined {
  const username = typed.trim().toLowerCase();
  return USERNAME.test(username) ? username : undefined;
}

/** Why a password is refused for `username`, or undefined when it is acceptable. Never includes the password. */
export function passwordProblem(username: string, password: string): string | undefined {
  if ([...password].length < PASSWORD_MIN_LENGTH) return `The password must have at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (password.length > PASSWORD_MAX_LENGTH) return `The password must have at most ${PASSWORD_MAX_LENGTH} characters.`;
  if (password.toLowerCase().includes(username.toLowerCase())) return 'The password must not contain the username.';
  return undefined;
}

/** `$scrypt$ln=15,r=8,p=1$<salt>$<key>` (PHC string format, base64 without padding). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptKey(password.normalize('NFC'), salt, KEY_BYTES, SCRYPT);
  return phc(Math.log2(SCRYPT.N), SCRYPT.r, SCRYPT.p, salt, key);
}

function phc(logN: number, r: number, p: number, salt: Buffer, key: Buffer): string {
  return `$scrypt$ln=${logN},r=${r},p=${p}$${salt.toString('base64').replace(/=+$/, '')}$${key.toString('base64').replace(/=+$/, '')}`;
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{22,172})$/;

export function parsePasswordHash(stored: string): ScryptHash | undefined {
  const match = PHC.exec(stored);
  if (match === null) return undefined;
  const [logN, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (!scryptParamsAllowed(2 ** logN, r, p)) return undefined;
  return { N: 2 ** logN, r, p, salt: Buffer.from(match[4] ?? '', 'base64'), key: Buffer.from(match[5] ?? '', 'base64') };
}

/**
 * ARGV: ns, username, authority, account JSON, onlyIfNoAdmin (1|0)
 * -> 'ok' | 'taken' | 'admin_exists'. The username is claimed in the global index in the same script.
 */
const CREATE = `
local ns, username, authority, json, onlyIfNoAdmin = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local index = ns .. ':accounts:usernames'
if redis.call('HEXISTS', index, username) == 1 then return 'taken' end
local ak = ns .. ':accounts:authority:' .. authority
if onlyIfNoAdmin == '1' then
  for _, v in ipairs(redis.call('HVALS', ak)) do
    local a = cjson.decode(v)
    if a.role == 'admin' and not a.disabled then return 'admin_exists' end
  end
end
redis.call('HSET', index, username, authority)
redis.call('HSET', ak, username, json)
return 'ok'
`;

/**
 * ARGV: ns, username, field ('password' | 'role' | 'disabled'), value, now
 * -> {'ok', account JSON} | {'missing'} | {'last_admin'}.
 * Refuses to take away the last enabled admin of an authority (role or disabled).
 * A new password also lifts a lock and forgets failures.
 */
const UPDATE = `
local ns, username, field, value = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
${ACCOUNT_JSON_LUA}
local authority, json = account_json(ns, username)
if not json then return {'missing'} end
local a = cjson.decode(json)
local wasAdmin = a.role == 'admin' and not a.disabled
if field == 'password' then
  a.password = value
  redis.call('DEL', ns .. ':accounts:lock:' .. username)
elseif field == 'role' then
  a.role = value
elseif field == 'disabled' then
  if value == '1' then a.disabled = true else a.disabled = nil end
end
local isAdmin = a.role == 'admin' and not a.disabled
if wasAdmin and not isAdmin then
  local others = 0
  local all = redis.call('HGETALL', ns .. ':accounts:authority:' .. authority)
  for i = 1, #all, 2 do
    if all[i] ~= username then
      local o = cjson.decode(all[i + 1])
      if o.role == 'admin' and not o.disabled then others = others + 1 end
    end
  end
  if others == 0 then return {'last_admin'} end
end
local out = cjson.encode(a)
redis.call('HSET', ns .. ':accounts:authority:' .. authority, username, out)
return {'ok', out}
`;

/**
 * ARGV: ns, username, now, maxFailures, lockMs, memoryMs
 * -> {'locked', until, ''} | {'go', lockedUntil set by this attempt or 0, account JSON or ''}
 * Every attempt counts as a failure up front (a success then clears the
 * count), so parallel attempts cannot all pass the limit before one of them
 * records its failure. Unknown usernames are counted and locked alike.
 */
const BEGIN = `
local ns, username, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local maxf, lockMs, memory = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
${ACCOUNT_JSON_LUA}
${COUNT_ATTEMPT_LUA}
local lk = ns .. ':accounts:lock:' .. username
local _, account = account_json(ns, username)
local state, locks = count_attempt(lk, now, maxf, lockMs, memory)
if state == 'locked' then return {'locked', locks, ''} end
return {'go', locks, account or ''}
`;

interface StoredAccount extends PersonAccount {
  password: string;
}

function parseStored(json: string | null | undefined): StoredAccount | undefined {
  if (!json) return undefined;
  const a = JSON.parse(json) as Partial<StoredAccount>;
  if (typeof a.username !== 'string' || typeof a.authority !== 'string' || typeof a.password !== 'string') return undefined;
  if (a.role !== 'clerk' && a.role !== 'admin') return undefined;
  return a as StoredAccount;
}

/** The account without its password hash (fields in a fixed order). */
function publicOf(a: StoredAccount): PersonAccount {
  return {
    username: a.username,
    authority: a.authority,
    role: a.role,
    ...(typeof a.name === 'string' ? { name: a.name } : {}),
    ...(a.disabled === true ? { disabled: true } : {}),
    createdAt: Number(a.createdAt),
  };
}

function checkName(name: string | undefined): void {
  if (name !== undefined && (name.trim().length === 0 || name.length > 100 || /\p{Cc}/u.test(name))) {
    throw new DokuboxError('VALIDATION_FAILED', 'The name must be 1-100 printable characters.', { field: 'name' });
  }
}

function checkRole(role: string): asserts role is PersonRole {
  if (!(PERSON_ROLES as readonly string[]).includes(role)) throw new DokuboxError('VALIDATION_FAILED', `The role must be one of: ${PERSON_ROLES.join(', ')}.`, { field: 'role' });
}

function usernameOf(typed: string): string {
  const username = normaliseUsername(typed);
  if (username === undefined) throw new DokuboxError('VALIDATION_FAILED', 'The username must be 3-64 characters of a-z, 0-9, dot, underscore or dash.', { field: 'username' });
  return username;
}

function checkPassword(username: string, password: string): void {
  const problem = passwordProblem(username, password);
  if (problem !== undefined) throw new DokuboxError('VALIDATION_FAILED', problem, { field: 'password' });
}

export class PersonAccounts {
  private readonly maxFailures: number;
  private readonly lockMs: number;
  private readonly failureMemoryMs: number;
  private readonly scripts: Record<'create' | 'update' | 'begin', ScriptFn>;
  private readonly keys: ReturnType<typeof accountKeys>;
  /** Same parameters and sizes as a real hash; no password matches it. Verified against for unknown usernames. */
  private readonly dummy = phc(Math.log2(SCRYPT.N), SCRYPT.r, SCRYPT.p, randomBytes(SALT_BYTES), randomBytes(KEY_BYTES));

  constructor(
    private readonly redis: Redis,
    private readonly ns: string,
    options: PersonAccountsOptions = {},
  ) {
    this.maxFailures = options.maxFailures ?? 5;
    this.lockMs = options.lockMs ?? 15 * MINUTE;
    this.failureMemoryMs = options.failureMemoryMs ?? 24 * 60 * MINUTE;
    this.keys = accountKeys(ns);
    this.scripts = {
      create: defineScript(redis, 'accounts_create', CREATE),
      update: defineScript(redis, 'accounts_update', UPDATE),
      begin: defineScript(redis, 'accounts_begin', BEGIN),
    };
  }

  /**
   * Creates an account. Throws VALIDATION_FAILED (field named) for a bad
   * username, role, name or password, ACCOUNT_CONFLICT when the username is
   * taken (in any authority) or, with `onlyIfNoAdmin`, when the authority
   * already has an enabled admin.
   */
  async create(
    input: { username: string; authority: string; role: PersonRole; password: string; name?: string },
    now: number,
    options: { onlyIfNoAdmin?: boolean } = {},
  ): Promise<PersonAccount> {
    assertId('authority', input.authority);
    const username = usernameOf(input.username);
    checkRole(input.role);
    checkName(input.name);
    checkPassword(username, input.password);
    const account: StoredAccount = {
      username,
      authority: input.authority,
      role: input.role,
      ...(input.name === undefined ? {} : { name: input.name }),
      createdAt: now,
      password: await hashPassword(input.password),
    };
    const outcome = (await this.scripts.create(this.ns, username, input.authority, JSON.stringify(account), options.onlyIfNoAdmin === true ? '1' : '0')) as string;
    if (outcome === 'taken') throw new DokuboxError('ACCOUNT_CONFLICT', `The username '${username}' is taken; choose another.`, { field: 'username' });
    if (outcome === 'admin_exists') {
      throw new DokuboxError('ACCOUNT_CONFLICT', `Authority '${input.authority}' already has an admin; they add further accounts (or use --force).`, { context: { authority: input.authority } });
    }
    return publicOf(account);
  }

  /** Replaces the password; also lifts a lock. The caller ends the account's sessions (PersonSessions.endAllOf). */
  async setPassword(typedUsername: string, password: string): Promise<PersonAccount> {
    const username = usernameOf(typedUsername);
    checkPassword(username, password);
    return this.update(username, 'password', await hashPassword(password));
  }

  /** Changes the role; refuses to demote the last enabled admin of an authority. Sessions pick the new role up at their next use. */
  async setRole(typedUsername: string, role: PersonRole): Promise<PersonAccount> {
    checkRole(role);
    return this.update(usernameOf(typedUsername), 'role', role);
  }

  /** Disables the account (sign-in refused, sessions refused at their next use); refuses the last enabled admin. */
  async disable(typedUsername: string): Promise<PersonAccount> {
    return this.update(usernameOf(typedUsername), 'disabled', '1');
  }

  async enable(typedUsername: string): Promise<PersonAccount> {
    return this.update(usernameOf(typedUsername), 'disabled', '0');
  }

  private async update(username: string, field: 'password' | 'role' | 'disabled', value: string): Promise<PersonAccount> {
    const [outcome, json] = (await this.scripts.update(this.ns, username, field, value)) as [string, string | undefined];
    if (outcome === 'missing') throw new DokuboxError('NOT_FOUND', `There is no account '${username}'.`, { field: 'username' });
    if (outcome === 'last_admin') {
      throw new DokuboxError('ACCOUNT_CONFLICT', `'${username}' is the last enabled admin of the authority; make another account admin first.`, { field: 'username' });
    }
    const stored = parseStored(json);
    if (stored === undefined) throw new Error(`account ${username} is not readable`);
    return publicOf(stored);
  }

  /** The account (without its hash), or undefined. */
  async get(typedUsername: string): Promise<PersonAccount | undefined> {
    const username = normaliseUsername(typedUsername);
    if (username === undefined) return undefined;
    const authority = await this.redis.hget(this.keys.usernames, username);
    if (authority === null) return undefined;
    const stored = parseStored(await this.redis.hget(this.keys.authority(authority), username));
    return stored === undefined ? undefined : publicOf(stored);
  }

  /** The accounts of an authority (never hashes), sorted by username. */
  async list(authority: string): Promise<PersonAccount[]> {
    assertId('authority', authority);
    const all = await this.redis.hvals(this.keys.authority(authority));
    return all
      .flatMap((json) => parseStored(json) ?? [])
      .map(publicOf)
      .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  }

  /**
   * Checks username and password. A locked username answers locked without
   * checking; the attempt that reaches the failure limit answers locked too.
   * Unknown, malformed and disabled usernames cost the same scrypt work and
   * answer the same.
   */
  async verify(typedUsername: string, password: string, now: number): Promise<PersonVerification> {
    const username = normaliseUsername(typedUsername);
    if (username === undefined) {
      await this.matches(password, this.dummy);
      return { ok: false };
    }
    const [state, until, json] = (await this.scripts.begin(this.ns, username, now, this.maxFailures, this.lockMs, this.failureMemoryMs)) as [string, number, string];
    if (state === 'locked') return { ok: false, locked: { until: Number(until) } };
    const stored = parseStored(json);
    const matches = await this.matches(password, stored?.password ?? this.dummy);
    if (matches && stored !== undefined && stored.disabled !== true) {
      await this.redis.del(this.keys.lock(username));
      return { ok: true, account: publicOf(stored) };
    }
    return Number(until) > 0 ? { ok: false, locked: { until: Number(until) } } : { ok: false };
  }

  private async matches(password: string, stored: string): Promise<boolean> {
    // Overlong input is cut, so the work stays that of one scrypt of a bounded input.
    return scryptMatches(password.slice(0, PASSWORD_MAX_LENGTH).normalize('NFC'), parsePasswordHash(stored), parsePasswordHash(this.dummy) as ScryptHash);
  }
}
