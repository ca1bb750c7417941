/**
 * Lua scripts that make every change of pickups and compartments atomic in
 * Redis, also with several service instances. Each script recomputes its key
 * names from the namespace in ARGV[1], so the store requires a single Redis
 * (standalone or Sentinel), not Redis Cluster. See docs/data-model.md.
 */
import { STATS_MAX_SAMPLES_PER_DAY } from '../core/statistics.js';

/** Helpers shared by all scripts (prepended to each). */
const LIB = `
local ns = ARGV[1]
local function k(...) return ns .. ':' .. table.concat({...}, ':') end

-- Pickups by state over all boxes (the metric dokubox_pickups): open states a current count, ended ones a total.
local function stat(state, delta)
  if state and state ~= '' then redis.call('HINCRBY', k('stats', 'pickups'), state, delta) end
end

-- The stream (outbox) gets the whole event; the history (audit trail) only what the
-- pickup hash does not hold already: the store adds pickup, authority, box and message id on read.
local function record(p, etype, from, to, reason, actor, now, comp, smsKind)
  local pk = k('pickup', p)
  local seq = redis.call('HINCRBY', pk, 'seq', 1)
  local h = redis.call('HMGET', pk, 'authority', 'boxId', 'messageId')
  local compartment = (comp and comp ~= '') and comp or cjson.null
  local kind = (smsKind and smsKind ~= '') and smsKind or nil
  redis.call('XADD', k('events'), '*', 'e', cjson.encode({
    eventId = p .. ':' .. seq, type = etype, pickupId = p, authority = h[1], boxId = h[2], messageId = h[3],
    from = from or cjson.null, to = to, reason = reason, compartment = compartment, actor = actor, at = now, seq = seq, smsKind = kind }))
  redis.call('RPUSH', k('history', p), cjson.encode({
    seq = seq, type = etype, from = from or cjson.null, to = to, reason = reason, compartment = compartment, actor = actor, at = now, smsKind = kind }))
  return h
end

-- Adds an event's counters (comma-separated; '' for none) to the statistics of its box and local day, in the
-- step that records the event: exactly once, with no marker (src/core/statistics.ts decides what counts). A day
-- key's TTL is renewed with each count; a collection's notified-to-collected seconds go to the day's samples.
local function count_stats(box, day, counters, duration, ttl)
  if counters == '' or day == '' or not box then return end
  local dayKey = k('stats', 'day', box, day)
  for counter in string.gmatch(counters, '[^,]+') do redis.call('HINCRBY', dayKey, counter, 1) end
  redis.call('EXPIRE', dayKey, ttl)
  if duration ~= '' then
    local samples = dayKey .. ':durations'
    if redis.call('LLEN', samples) < ${STATS_MAX_SAMPLES_PER_DAY} then redis.call('RPUSH', samples, duration) end
    redis.call('EXPIRE', samples, ttl)
  end
end

local function emit(p, etype, from, to, reason, actor, now, comp)
  record(p, etype, from, to, reason, actor, now, comp)
  if from then stat(from, -1) end
  stat(to, 1)
end

-- Sets fields of the pickup hash from ARGV[first..]; the sealed personal data goes to a key of its own
-- (it is the only long value, and without it the hash stays in Redis's compact encoding).
local function set_fields(p, first)
  local pk = k('pickup', p)
  for i = first, #ARGV, 2 do
    if ARGV[i] == 'pii' then redis.call('SET', k('pii', p), ARGV[i + 1]) else redis.call('HSET', pk, ARGV[i], ARGV[i + 1]) end
  end
end

-- Search indexes (case number, document number) per authority, two keys each (docs/data-model.md):
-- {ns}:open:{case|doc}:{authority}:{hash}, a set of the open pickups' ids (ingest adds, the end removes; it never
-- has a TTL, so adding needs no PERSIST), and {ns}:{case|doc}:{authority}:{hash}, a sorted set of ended pickups,
-- score = until when the entry is kept (ms, Redis time: the end of the audit retention, when the pickup's hash and
-- history expire too). That key expires with its last entry; expired entries are dropped on write and skipped on
-- read. Entries with score +inf in it are open pickups ingested by versions before the open sets.
local function redis_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function index_keep(key, p, untilMs)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. redis_ms())
  redis.call('ZADD', key, untilMs, p)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] == 'inf' then redis.call('PERSIST', key) else redis.call('PEXPIREAT', key, math.floor(tonumber(top[2]))) end
end

-- Appends an entry (JSON, no personal data) to the capped audit stream.
local function audit(entry, maxLen)
  return redis.call('XADD', k('audit'), 'MAXLEN', '~', maxLen, '*', 'a', entry)
end

local function allocate(box, accessible)
  local acc, std = k('box', box, 'free', 'acc'), k('box', box, 'free', 'std')
  local r
  if accessible == '1' then
    r = redis.call('ZPOPMIN', acc)
    if #r == 0 then r = redis.call('ZPOPMIN', std) end
  else
    r = redis.call('ZPOPMIN', std)
    if #r == 0 then r = redis.call('ZPOPMAX', acc) end
  end
  if #r == 0 then return nil end
  return r[1]
end

local function free_compartment(box, comp)
  if redis.call('SISMEMBER', k('box', box, 'defective'), comp) == 1 then return end
  local meta = redis.call('HGET', k('box', box, 'layout'), comp)
  if not meta then return end
  local cls, score = string.match(meta, '^(%a+)|(%d+)$')
  redis.call('ZADD', k('box', box, 'free', cls), score, comp)
end

local function serve_waiting(box, now)
  local waiting = k('box', box, 'waiting')
  while redis.call('LLEN', waiting) > 0 do
    local p = redis.call('LINDEX', waiting, 0)
    local comp = allocate(box, redis.call('HGET', k('pickup', p), 'accessible'))
    if not comp then break end
    redis.call('LPOP', waiting)
    redis.call('HSET', k('box', box, 'holder'), comp, p)
    redis.call('HSET', k('pickup', p), 'state', 'reserved', 'compartment', comp, 'updatedAt', now, 'lastReason', 'compartment_assigned')
    emit(p, 'pickup.transitioned', 'waiting', 'reserved', 'compartment_assigned', 'system', now, comp)
  end
end
`;

/**
 * Registers a box layout. ARGV: ns, box, then triples (compartment, class, score).
 * Compartments that nobody holds become free; held, retrieval and defective
 * ones keep their state. Returns the number of compartments.
 */
export const SYNC_BOX = `${LIB}
local box = ARGV[2]
local layout = k('box', box, 'layout')
local holder, retrieval, defective = k('box', box, 'holder'), k('box', box, 'retrieval'), k('box', box, 'defective')
local count = 0
for i = 3, #ARGV, 3 do
  local comp, cls, score = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('HSET', layout, comp, cls .. '|' .. score)
  redis.call('ZREM', k('box', box, 'free', cls == 'acc' and 'std' or 'acc'), comp)
  if redis.call('HEXISTS', holder, comp) == 0 and redis.call('HEXISTS', retrieval, comp) == 0 and redis.call('SISMEMBER', defective, comp) == 0 then
    redis.call('ZADD', k('box', box, 'free', cls), score, comp)
  else
    redis.call('ZREM', k('box', box, 'free', cls), comp)
  end
  count = count + 1
end
return count
`;

/**
 * Ingests a notice idempotently. ARGV: ns, now, msgKey, fingerprint, pickupId,
 * box, accessible ('1' | '0'), msgTtlSeconds, serialIndex (the documents'
 * keyed hashes, comma-separated), actor, authority, caseHash, statsDay (the
 * box's local day of now), statsTtlSeconds, then field/value pairs of the
 * pickup hash beyond those it has from these arguments (id, authority, boxId,
 * accessible, serialIndex, caseIndex, createdAt, updatedAt). Adds the pickup to the authority's
 * open search indexes by case number and by document number, and counts the
 * notice (and whether it waits) in the statistics of its box and day. Returns
 * {'existing', pickupId, pickupHashFlat, historyEntries} (what the answer
 * shows, in the same round trip), {'conflict', pickupId}, {'created', state,
 * compartment} or {'unknown_box'}. A repeated message id is counted in
 * {ns}:stats:ingest (duplicate | conflict): every answer that refers to stored
 * data comes from a script run that wrote, which is what a following WAIT can
 * confirm.
 *
 * Few commands on purpose (docs/performance.md): the message id is claimed and
 * looked up in one SET NX GET; whether the box is known is asked only when
 * neither a waiting list nor a free compartment shows it; the pickup hash,
 * with its state and the first event's seq, is written by one HSET; the open
 * search indexes are sets without a TTL (one SADD each, no PERSIST); the
 * notice is counted here, exactly once, with no marker (count_stats does the
 * same for the later events in TRANSITION and ANNOTATE).
 */
export const INGEST = `${LIB}
local now, msgKey, fingerprint, p, box, accessible, ttl = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
local mk = k('msg', msgKey)
local existing = redis.call('SET', mk, fingerprint .. '|' .. p, 'NX', 'GET', 'EX', ttl)
if existing then
  local sep = string.find(existing, '|', 1, true)
  local fp, pid = string.sub(existing, 1, sep - 1), string.sub(existing, sep + 1)
  -- Counted, and a write on purpose: a WAIT after this script then proves the original write reached the replicas.
  local outcome = fp == fingerprint and 'existing' or 'conflict'
  redis.call('HINCRBY', k('stats', 'ingest'), outcome == 'existing' and 'duplicate' or 'conflict', 1)
  if outcome == 'existing' then
    return {outcome, pid, redis.call('HGETALL', k('pickup', pid)), redis.call('LRANGE', k('history', pid), 0, -1)}
  end
  return {outcome, pid}
end
local waiting = k('box', box, 'waiting')
local comp = nil
if redis.call('LLEN', waiting) == 0 then
  comp = allocate(box, accessible)
  -- Neither anybody waiting nor a free compartment: only then can the box be one Redis does not know.
  if not comp and redis.call('EXISTS', k('box', box, 'layout')) == 0 then
    redis.call('DEL', mk)
    return {'unknown_box'}
  end
end
local serialIndex = ARGV[9]
local serials = {}
for h in string.gmatch(serialIndex, '[^,]+') do serials[#serials + 1] = h end
local actor, authority, caseHash, statsDay, statsTtl = ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14]
local state = comp and 'reserved' or 'waiting'
-- The pickup hash in one command; the fields this script has already from its arguments are not sent twice
-- (the state fields last: they win). The sealed personal data goes to its own key.
local fields = {'id', p, 'authority', authority, 'boxId', box, 'accessible', accessible, 'serialIndex', serialIndex,
  'caseIndex', caseHash, 'createdAt', now, 'updatedAt', now}
local messageId = ''
for i = 15, #ARGV, 2 do
  if ARGV[i] == 'pii' then
    redis.call('SET', k('pii', p), ARGV[i + 1])
  else
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = ARGV[i + 1]
    if ARGV[i] == 'messageId' then messageId = ARGV[i + 1] end
  end
end
fields[#fields + 1] = 'state'
fields[#fields + 1] = state
fields[#fields + 1] = 'compartment'
fields[#fields + 1] = comp or ''
fields[#fields + 1] = 'lastReason'
fields[#fields + 1] = 'notice_received'
fields[#fields + 1] = 'seq'
fields[#fields + 1] = '1'
redis.call('HSET', k('pickup', p), unpack(fields))
if #serials > 0 then
  local entries = {}
  for _, h in ipairs(serials) do
    entries[#entries + 1] = h
    entries[#entries + 1] = p
  end
  redis.call('HSET', k('box', box, 'serials'), unpack(entries))
  for _, h in ipairs(serials) do redis.call('SADD', k('open', 'doc', authority, h), p) end
end
redis.call('SADD', k('open', 'case', authority, caseHash), p)
if comp then
  redis.call('HSET', k('box', box, 'holder'), comp, p)
else
  redis.call('RPUSH', waiting, p)
end
-- The first event (seq 1), as record() writes it, with the ids this script already has.
local compartment = comp or cjson.null
redis.call('XADD', k('events'), '*', 'e', cjson.encode({
  eventId = p .. ':1', type = 'pickup.created', pickupId = p, authority = authority, boxId = box, messageId = messageId,
  from = cjson.null, to = state, reason = 'notice_received', compartment = compartment, actor = actor, at = now, seq = 1 }))
redis.call('RPUSH', k('history', p), cjson.encode({
  seq = 1, type = 'pickup.created', from = cjson.null, to = state, reason = 'notice_received', compartment = compartment, actor = actor, at = now }))
stat(state, 1)
-- The notice in the statistics of its box and local day, here where it happens exactly once (TRANSITION and
-- ANNOTATE count the later events in the same way, with count_stats). The day key's TTL is set when its first notice creates the counter.
local day = k('stats', 'day', box, statsDay)
if redis.call('HINCRBY', day, 'notices', 1) == 1 then redis.call('EXPIRE', day, statsTtl) end
if state == 'waiting' then redis.call('HINCRBY', day, 'waited', 1) end
return {'created', state, comp or ''}
`;

/**
 * Applies one state transition decided by the domain, with compare-and-set on
 * the current state. ARGV: ns, now, pickupId, expectedState, to, reason,
 * actor, release ('' | free | retrieval | detach | unwait), dropCode (0/1),
 * dropPersonal (0/1), markDefective (0/1), codeHash (''), deadline ('' keep,
 * '-' clear, or ms), retentionSeconds, statsDay (the box's local day of
 * now), statsCounters (comma-separated, '' for none), statsDuration (seconds
 * from notified, '' for none), statsTtlSeconds, then field/value pairs.
 * Returns {'ok', compartment} or {'not_found'} | {'stale', state} | {'code_collision'}.
 */
export const TRANSITION = `${LIB}
local now, p, expected, to, reason, actor = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local release, dropCode, dropPersonal, markDefective, codeHash, deadline, retention = ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13], tonumber(ARGV[14])
local pk = k('pickup', p)
local h = redis.call('HMGET', pk, 'state', 'boxId', 'compartment', 'codeHash', 'serialIndex', 'authority', 'caseIndex')
if not h[1] then return {'not_found'} end
if h[1] ~= expected then return {'stale', h[1]} end
local box, comp = h[2], h[3] or ''
if codeHash ~= '' then
  if redis.call('HSETNX', k('box', box, 'codes'), codeHash, p) == 0 then return {'code_collision'} end
  if h[4] and h[4] ~= '' then redis.call('HDEL', k('box', box, 'codes'), h[4]) end
  redis.call('HSET', pk, 'codeHash', codeHash)
end
if markDefective == '1' and comp ~= '' then redis.call('SADD', k('box', box, 'defective'), comp) end
if release == 'unwait' then
  redis.call('LREM', k('box', box, 'waiting'), 0, p)
elseif release ~= '' and comp ~= '' then
  local holder = k('box', box, 'holder')
  if redis.call('HGET', holder, comp) == p then redis.call('HDEL', holder, comp) end
  if release == 'retrieval' then
    redis.call('HSET', k('box', box, 'retrieval'), comp, p)
  elseif release == 'free' then
    free_compartment(box, comp)
  elseif release == 'detach' then
    redis.call('HSET', pk, 'compartment', '')
  end
end
if dropCode == '1' then
  local current = redis.call('HGET', pk, 'codeHash')
  if current and current ~= '' then redis.call('HDEL', k('box', box, 'codes'), current) end
  redis.call('HDEL', pk, 'codeHash')
end
if dropPersonal == '1' then
  if h[5] and h[5] ~= '' then
    for s in string.gmatch(h[5], '[0-9a-f]+') do redis.call('HDEL', k('box', box, 'serials'), s) end
  end
  redis.call('DEL', k('pii', p))
  redis.call('HDEL', pk, 'serialIndex', 'canHash')
end
if deadline == '-' then
  redis.call('ZREM', k('deadlines'), p)
  redis.call('HDEL', pk, 'deadline')
elseif deadline ~= '' then
  redis.call('ZADD', k('deadlines'), deadline, p)
  redis.call('HSET', pk, 'deadline', deadline)
end
redis.call('HSET', pk, 'state', to, 'updatedAt', now, 'lastReason', reason)
if to ~= 'notified' then redis.call('ZREM', k('reminders'), p) end
set_fields(p, 19)
emit(p, 'pickup.transitioned', expected, to, reason, actor, now, redis.call('HGET', pk, 'compartment'))
count_stats(box, ARGV[15], ARGV[16], ARGV[17], tonumber(ARGV[18]))
if to == 'waiting' then redis.call('LPUSH', k('box', box, 'waiting'), p) end
if dropPersonal == '1' and retention > 0 then
  redis.call('EXPIRE', pk, retention)
  redis.call('EXPIRE', k('history', p), retention)
  -- The search indexes keep the ended pickup exactly as long as its record.
  local untilMs = redis_ms() + retention * 1000
  if h[7] and h[7] ~= '' then
    redis.call('SREM', k('open', 'case', h[6], h[7]), p)
    index_keep(k('case', h[6], h[7]), p, untilMs)
  end
  if h[5] and h[5] ~= '' then
    for s in string.gmatch(h[5], '[0-9a-f]+') do
      redis.call('SREM', k('open', 'doc', h[6], s), p)
      index_keep(k('doc', h[6], s), p, untilMs)
    end
  end
end
if release == 'free' or release == 'unwait' or to == 'waiting' then serve_waiting(box, now) end
return {'ok', redis.call('HGET', pk, 'compartment')}
`;

/**
 * Compartment maintenance by staff. ARGV: ns, now, box, compartment, action
 * (emptied | defective | repaired). Returns {'ok'} or {'unknown_compartment'}
 * or {'held', pickupId} when a repair or defect concerns a held compartment.
 */
export const COMPARTMENT = `${LIB}
local now, box, comp, action = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('HEXISTS', k('box', box, 'layout'), comp) == 0 then return {'unknown_compartment'} end
if action == 'emptied' then
  redis.call('HDEL', k('box', box, 'retrieval'), comp)
  if redis.call('HEXISTS', k('box', box, 'holder'), comp) == 1 then return {'held', redis.call('HGET', k('box', box, 'holder'), comp)} end
  free_compartment(box, comp)
elseif action == 'defective' then
  redis.call('SADD', k('box', box, 'defective'), comp)
  redis.call('ZREM', k('box', box, 'free', 'acc'), comp)
  redis.call('ZREM', k('box', box, 'free', 'std'), comp)
elseif action == 'repaired' then
  redis.call('SREM', k('box', box, 'defective'), comp)
  if redis.call('HEXISTS', k('box', box, 'holder'), comp) == 0 and redis.call('HEXISTS', k('box', box, 'retrieval'), comp) == 0 then
    free_compartment(box, comp)
  end
end
redis.call('XADD', k('compartment-events'), 'MAXLEN', '~', 100000, '*', 'c', cjson.encode({ type = 'compartment.changed', boxId = box, compartment = comp, action = action, at = now }))
serve_waiting(box, now)
return {'ok'}
`;

/**
 * Records something that happened to a pickup without changing its state
 * (SMS accepted, failed, delivered ...). ARGV: ns, now, pickupId, type,
 * reason, actor, once, unless, smsKind ('' or the kind of SMS the event is
 * about, kept in the event), statsDay (the box's local day of now),
 * statsCounters (comma-separated, '' for none), statsTtlSeconds, then
 * field/value pairs to set. The counters are added only when the event is
 * recorded (a repeated delivery report held back by its marker counts nothing). `once` (or '')
 * names a marker field of the pickup hash: set with the event, and an event
 * whose marker is set already is not recorded again (a repeated delivery
 * report). `unless` (or '') names a marker whose presence suppresses the
 * event. Returns {'ok'}, {'duplicate'} or {'not_found'}.
 */
export const ANNOTATE = `${LIB}
local now, p, etype, reason, actor, once, unless = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local pk = k('pickup', p)
local state = redis.call('HGET', pk, 'state')
if not state then return {'not_found'} end
if unless ~= '' and redis.call('HEXISTS', pk, unless) == 1 then return {'duplicate'} end
if once ~= '' and redis.call('HSETNX', pk, once, now) == 0 then return {'duplicate'} end
set_fields(p, 13)
local h = record(p, etype, state, state, reason, actor, now, redis.call('HGET', pk, 'compartment'), ARGV[9])
count_stats(h[2], ARGV[10], ARGV[11], '', tonumber(ARGV[12]))
return {'ok'}
`;

/**
 * Raises a pickup's report cursor (the seq of the last status report the case
 * system acknowledged); never lowers it and never recreates an expired
 * pickup. ARGV: ns, pickupId, seq. Returns 1, or 0 when the pickup is gone.
 */
export const REPORTED = `
local pk = ARGV[1] .. ':pickup:' .. ARGV[2]
local seq = tonumber(ARGV[3])
if redis.call('EXISTS', pk) == 0 then return 0 end
if tonumber(redis.call('HGET', pk, 'reportedSeq') or '0') < seq then redis.call('HSET', pk, 'reportedSeq', seq) end
return 1
`;

/**
 * Schedules a notified pickup's reminder SMS (a sorted set swept by the
 * maintenance job, not a delayed job per pickup). ARGV: ns, pickupId, at
 * (ms). Returns 1, or 0 when the pickup is not notified (any more).
 */
export const REMIND = `
local p = ARGV[2]
if redis.call('HGET', ARGV[1] .. ':pickup:' .. p, 'state') ~= 'notified' then return 0 end
redis.call('ZADD', ARGV[1] .. ':reminders', ARGV[3], p)
return 1
`;

/**
 * What a verification at the box reads, in one round trip and with the same
 * Redis commands whether the code is live or not (the answer time must not
 * tell which). ARGV: ns, box, codeHash, padLength. Returns {pickupId,
 * state, compartment, codeHash, sealed, sealedFound}: empty strings for what
 * does not exist, and in place of missing sealed personal data a filler of
 * padLength characters (sealedFound ''), so both answers are about the same size.
 */
export const VERIFY = `
local ns, box, hash, pad = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local p = redis.call('HGET', ns .. ':box:' .. box .. ':codes', hash) or ''
local h = redis.call('HMGET', ns .. ':pickup:' .. p, 'state', 'compartment', 'codeHash', 'renewal', 'canHash', 'codeBlocked')
local sealed = redis.call('GET', ns .. ':pii:' .. p)
local found = (p ~= '' and sealed) and '1' or ''
if found == '' then sealed = string.rep('.', pad) end
return {p, h[1] or '', h[2] or '', h[3] or '', sealed, found, h[4] or '', h[5] or '', h[6] or ''}
`;

/**
 * Gives a notified pickup a new code (staff, after the old one was blocked or
 * lost), or a loaded one whose SMS with its code failed (smsFailure set: the
 * ready SMS, or a new code's SMS in its place; the code never reached the
 * applicant for sure), with compare-and-set on the state and the code generation. ARGV: ns,
 * now, pickupId, expectedGeneration, maxGenerations, codeHash, sealed (the
 * personal data with the new code), actor. Swaps the code in the box's index
 * of live codes (a hash live for any pickup, this one included, is refused:
 * the caller draws again), replaces the sealed data, clears the verification
 * failures and the block (verifyFailures, codeBlocked), raises codeGeneration
 * and appends a `pickup.code` event (reason code_reissued) that carries the
 * new generation: written like record() in LIB, plus that field, so the SMS
 * of exactly this generation is queued from the stream. The state and the
 * statistics do not change. Returns {'ok', generation} or {'not_found'} |
 * {'state', state} | {'stale', generation} | {'limit', generation} |
 * {'code_collision'}.
 */
export const REISSUE = `${LIB}
local now, p, expectedGen, maxGen, codeHash, sealed, actor = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8]
local pk = k('pickup', p)
local h = redis.call('HMGET', pk, 'state', 'boxId', 'codeHash', 'codeGeneration', 'compartment', 'authority', 'messageId', 'smsFailure')
if not h[1] then return {'not_found'} end
local smsFailed = h[1] == 'loaded' and h[8] and h[8] ~= ''
if h[1] ~= 'notified' and not smsFailed then return {'state', h[1]} end
local gen = tonumber(h[4] or '0')
if gen ~= expectedGen then return {'stale', tostring(gen)} end
if gen >= maxGen then return {'limit', tostring(gen)} end
if redis.call('EXISTS', k('pii', p)) == 0 then return {'not_found'} end
local codes = k('box', h[2], 'codes')
if redis.call('HSETNX', codes, codeHash, p) == 0 then return {'code_collision'} end
if h[3] and h[3] ~= '' and redis.call('HGET', codes, h[3]) == p then redis.call('HDEL', codes, h[3]) end
redis.call('HSET', pk, 'codeHash', codeHash, 'updatedAt', now)
redis.call('SET', k('pii', p), sealed)
redis.call('HDEL', pk, 'verifyFailures', 'codeBlocked')
gen = redis.call('HINCRBY', pk, 'codeGeneration', 1)
local seq = redis.call('HINCRBY', pk, 'seq', 1)
local compartment = (h[5] and h[5] ~= '') and h[5] or cjson.null
redis.call('XADD', k('events'), '*', 'e', cjson.encode({
  eventId = p .. ':' .. seq, type = 'pickup.code', pickupId = p, authority = h[6], boxId = h[2], messageId = h[7],
  from = h[1], to = h[1], reason = 'code_reissued', compartment = compartment, actor = actor, at = now, seq = seq, codeGeneration = gen }))
redis.call('RPUSH', k('history', p), cjson.encode({
  seq = seq, type = 'pickup.code', from = h[1], to = h[1], reason = 'code_reissued', compartment = compartment, actor = actor, at = now, codeGeneration = gen }))
return {'ok', tostring(gen)}
`;

/**
 * Records an action of staff in the audit stream ({ns}:audit, capped), and
 * for a pickup, by `annotate`, a `pickup.audit` event in its history (reason =
 * the action; no personal data): `none`, `if_exists` (when the pickup still
 * exists), `required` (refused with not_found otherwise), `reveal` (required,
 * and refused with personal_data_gone when the sealed personal data is
 * deleted; the answer carries it, so an entry is written exactly when the
 * data is handed out). ARGV: ns, now, maxLen, entryJson, pickupId ('' for
 * none), action, actor, annotate. Returns {'ok', streamId, sealed?} or
 * {'not_found'} | {'personal_data_gone'}.
 */
export const AUDIT = `${LIB}
local now, maxLen, entry, p, action, actor, annotate = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local sealed = ''
if p ~= '' and annotate ~= 'none' then
  local pk = k('pickup', p)
  local state = redis.call('HGET', pk, 'state')
  if not state and annotate ~= 'if_exists' then return {'not_found'} end
  if annotate == 'reveal' then
    sealed = redis.call('GET', k('pii', p))
    if not sealed then return {'personal_data_gone'} end
  end
  if state then record(p, 'pickup.audit', state, state, action, actor, now, redis.call('HGET', pk, 'compartment')) end
end
return {'ok', audit(entry, maxLen), sealed}
`;

/**
 * Moves the deadline of a notified pickup (staff extended it), with
 * compare-and-set on the state and the deadline read: re-schedules the
 * expiry ({ns}:deadlines), records a `pickup.audit` event (reason
 * deadline_extended) and the audit entry. The reminder is re-scheduled by the
 * SMS notifications from that event. ARGV: ns, now, pickupId,
 * expectedDeadline, newDeadline, actor, maxLen, entryJson. Returns {'ok'} or
 * {'not_found'} | {'state', state} | {'stale'}.
 */
export const EXTEND = `${LIB}
local now, p, expected, deadline, actor, maxLen, entry = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local pk = k('pickup', p)
local h = redis.call('HMGET', pk, 'state', 'deadline', 'compartment')
if not h[1] then return {'not_found'} end
if h[1] ~= 'notified' then return {'state', h[1]} end
if h[2] ~= expected then return {'stale'} end
redis.call('ZADD', k('deadlines'), deadline, p)
redis.call('HSET', pk, 'deadline', deadline, 'updatedAt', now)
record(p, 'pickup.audit', 'notified', 'notified', 'deadline_extended', actor, now, h[3])
audit(entry, maxLen)
return {'ok'}
`;
