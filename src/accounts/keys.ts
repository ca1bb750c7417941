/**
 * Key names of the dashboard's accounts and sessions (one place, shared by
 * the TypeScript side and the Lua scripts), and a Lua helper that reads an
 * account through the global username index.
 */
export function accountKeys(ns: string) {
  return {
    /** hash username -> authority */
    usernames: `${ns}:accounts:usernames`,
    /** hash username -> account JSON */
    authority: (authority: string) => `${ns}:accounts:authority:${authority}`,
    /** hash failures, lastAt, lockedUntil */
    lock: (username: string) => `${ns}:accounts:lock:${username}`,
    /** hash of one session, by the SHA-256 of its token */
    session: (tokenHash: string) => `${ns}:accounts:session:${tokenHash}`,
    /** set of the token hashes of one person's sessions */
    sessionsOf: (username: string) => `${ns}:accounts:sessions-of:${username}`,
  };
}

/** Lua: `account_json(ns, username)` -> authority, account JSON (or nil, nil). */
export const ACCOUNT_JSON_LUA = `
local function account_json(ns, username)
  local authority = redis.call('HGET', ns .. ':accounts:usernames', username)
  if not authority then return nil, nil end
  local json = redis.call('HGET', ns .. ':accounts:authority:' .. authority, username)
  if not json then return nil, nil end
  return authority, json
end
`;
