/**
 * Redis persistence of pickups, compartments, the waiting list, live codes
 * and the event stream. All writes go through the Lua scripts in scripts.ts;
 * this class only marshals arguments and reads. Key layout: docs/data-model.md.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { allocationScore, type BoxDefinition } from '../core/box.js';
import { DokuboxError } from '../core/errors.js';
import type { PickupEvent } from '../core/events.js';
import type { PickupState, TransitionReason } from '../core/pickup.js';
import type { Counter } from '../core/statistics.js';
import type { ReplicaWait } from './replica-wait.js';
import { AUDIT_STREAM_MAX_LEN, AuditLog, type AuditEntry } from './audit.js';
import { ANNOTATE, COMPARTMENT, EXTEND, INGEST, REISSUE, REMIND, REPORTED, SYNC_BOX, TRANSITION, VERIFY } from './scripts.js';

export interface StoredPickup {
  id: string;
  authority: string;
  boxId: string;
  messageId: string;
  caseNumber: string;
  state: PickupState;
  compartment: string | null;
  accessible: boolean;
  language: string;
  documentTypes: string[];
  /** Sealed personal data; absent once the pickup has ended. */
  pii: string | undefined;
  codeHash: string | undefined;
  /** The document renews an older card of the applicant. */
  renewal: boolean;
  /** Keyed hash (hashCan) of the old card's CAN; absent without one and once the pickup has ended. */
  canHash: string | undefined;
  createdAt: string;
  updatedAt: string;
  notifiedAt: string | undefined;
  loadedAt: string | undefined;
  /** Deadline in ms since the epoch while the pickup is notified. */
  deadline: number | undefined;
  lastReason: string;
  /**
   * An SMS of the pickup ended without reaching the gateway for sure (failed, or uncertain after a timeout or a
   * crash). While the pickup is loaded that was the SMS with its code (the ready SMS or a new code's in its place).
   */
  smsFailed: boolean;
}

export interface IngestParams {
  now: string;
  messageKey: string;
  fingerprint: string;
  pickupId: string;
  boxId: string;
  accessible: boolean;
  msgTtlSeconds: number;
  serialHashes: string[];
  actor: string;
  /** The authority whose search indexes get the pickup (by case number and by each document number). */
  authority: string;
  /** Keyed hash of the normalised case number. */
  caseHash: string;
  /** The box's local day of `now` (YYYY-MM-DD): the statistics day the notice is counted on. */
  statsDay: string;
  /** How long a statistics day is kept, in seconds. */
  statsTtlSeconds: number;
  /**
   * Further fields of the pickup hash (`pii`: the sealed personal data, kept in a key of its own). The script
   * writes id, authority, boxId, accessible, serialIndex (the serial hashes comma-separated), caseIndex (the
   * case hash: the pickup's entry in the search index, kept with the record), createdAt and updatedAt itself.
   */
  fields: Record<string, string>;
}

export type IngestResult =
  | { outcome: 'created'; state: PickupState; compartment: string | null }
  /** The stored pickup and its history come with the answer (one round trip); undefined when its record is gone. */
  | { outcome: 'existing'; pickupId: string; pickup: StoredPickup | undefined; history: PickupEvent[] }
  | { outcome: 'conflict'; pickupId: string };

export interface TransitionParams {
  now: string;
  pickupId: string;
  expected: PickupState;
  to: PickupState;
  reason: TransitionReason;
  actor: string;
  release?: '' | 'free' | 'retrieval' | 'detach' | 'unwait';
  dropCode?: boolean;
  dropPersonal?: boolean;
  markDefective?: boolean;
  codeHash?: string;
  /** undefined keeps, null clears, a number sets (ms). */
  deadline?: number | null;
  retentionSeconds: number;
  fields?: Record<string, string>;
  /** What the transition adds to the statistics (counted with it, exactly once); none when not given. */
  stats?: StatsCount;
}

/** Counts of one event in the statistics of its box and local day (src/core/statistics.ts decides them). */
export interface StatsCount {
  /** The box's local day of the event (YYYY-MM-DD). */
  day: string;
  counters: readonly Counter[];
  /** Seconds from notified to collected: a sample of the day's median. */
  durationSeconds?: number;
  /** How long the day's keys are kept after this count, in seconds. */
  ttlSeconds: number;
}

export interface ReissueParams {
  now: string;
  pickupId: string;
  /** The code generation the caller read (compare-and-set). */
  expectedGeneration: number;
  /** Refused (`limit`) once the pickup has had this many new codes. */
  maxGenerations: number;
  codeHash: string;
  /** The sealed personal data with the new code. */
  sealed: string;
  actor: string;
}

export type ReissueResult =
  | { outcome: 'ok'; generation: number }
  | { outcome: 'state'; state: PickupState }
  | { outcome: 'stale' | 'limit'; generation: number }
  | { outcome: 'code_collision' };

export type VerificationLookup =
  | { pickupId: undefined }
  | {
      pickupId: string;
      state: PickupState;
      compartment: string | null;
      codeHash: string;
      sealed: string | undefined;
      /** The notice said the applicant renews an old card (its CAN is the factor at boxes asking dateOfBirthOrCan). */
      renewal: boolean;
      canHash: string | undefined;
      /** Too many failed second factors: the code opens nothing until staff issue a new one. */
      codeBlocked: boolean;
    };

export interface CompartmentOccupancy {
  /** The open pickup holding the compartment, and its state (null when its hash is gone). */
  holder: { pickupId: string; state: PickupState | null } | null;
  /** The ended pickup whose document is still inside, waiting for staff. */
  retrievalOf: string | null;
  defective: boolean;
}

/** Every compartment state; openapi.yaml lists the same (tests/integration/openapi.test.ts compares them). */
export const COMPARTMENT_STATES = ['free', 'reserved', 'occupied', 'retrieval', 'defective'] as const;
export type CompartmentState = (typeof COMPARTMENT_STATES)[number];

export interface CompartmentStatus {
  id: string;
  state: CompartmentState;
  pickupId: string | null;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Compartments per SYNC_BOX call (a few thousand arguments each). */
export const SYNC_BOX_CHUNK = 1000;

/** Runs a pipeline and returns its replies; the first failed command (or a lost connection) throws, as a single command would. */
async function results(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = await pipeline.exec();
  if (replies === null) throw new Error('Connection is closed.');
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** A flat HGETALL reply (as a script returns it) as a record. */
function flatToRecord(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

/** A pickup hash as StoredPickup; undefined when the hash is gone. */
function pickupFromHash(pickupId: string, h: Record<string, string>, pii: string | undefined): StoredPickup | undefined {
  if (h.state === undefined) return undefined;
  return {
    id: pickupId,
    authority: h.authority ?? '',
    boxId: h.boxId ?? '',
    messageId: h.messageId ?? '',
    caseNumber: h.caseNumber ?? '',
    state: h.state as PickupState,
    compartment: h.compartment ? h.compartment : null,
    accessible: h.accessible === '1',
    language: h.language ?? 'de',
    documentTypes: JSON.parse(h.documentTypes ?? '[]') as string[],
    pii,
    codeHash: h.codeHash,
    renewal: h.renewal === '1',
    canHash: h.canHash,
    createdAt: h.createdAt ?? '',
    updatedAt: h.updatedAt ?? '',
    notifiedAt: h.notifiedAt,
    loadedAt: h.loadedAt,
    deadline: h.deadline === undefined ? undefined : Number(h.deadline),
    lastReason: h.lastReason ?? '',
    smsFailed: h.smsFailure !== undefined && h.smsFailure !== '',
  };
}

/** History entries (JSON) as events: entries hold what is particular to the event, the pickup's ids come from its hash. */
function eventsOf(pickupId: string, entries: string[], ids: (string | null)[]): PickupEvent[] {
  const [authority, boxId, messageId] = ids;
  return entries.map((e) => {
    const entry = JSON.parse(e) as Omit<PickupEvent, 'eventId' | 'pickupId' | 'authority' | 'boxId' | 'messageId'> & Partial<PickupEvent>;
    return { eventId: `${pickupId}:${entry.seq}`, pickupId, authority: authority ?? '', boxId: boxId ?? '', messageId: messageId ?? '', ...entry };
  });
}

export class PickupStore {
  private readonly scripts: Record<'syncBox' | 'ingest' | 'transition' | 'compartment' | 'annotate' | 'reported' | 'remind' | 'verify' | 'reissue' | 'extend', ScriptFn>;

  /** The audit trail of staff actions ({ns}:audit). */
  readonly audit: AuditLog;

  private readonly replicaWait: ReplicaWait | undefined;

  constructor(
    private readonly redis: Redis,
    readonly ns: string,
    /** With replicas to wait for, ingest runs on this pool and answers only once they confirmed. */
    options: { replicaWait?: ReplicaWait | undefined } = {},
  ) {
    this.replicaWait = options.replicaWait;
    this.replicaWait?.register(INGEST);
    const define = (name: string, lua: string): ScriptFn => {
      const command = `dokubox_${name}`;
      if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: 0, lua });
      const fn = (redis as unknown as Record<string, ScriptFn>)[command];
      if (fn === undefined) throw new Error(`script ${name} was not registered`);
      return fn.bind(redis);
    };
    this.scripts = {
      syncBox: define('sync_box', SYNC_BOX),
      ingest: define('ingest', INGEST),
      transition: define('transition', TRANSITION),
      compartment: define('compartment', COMPARTMENT),
      annotate: define('annotate', ANNOTATE),
      reported: define('reported', REPORTED),
      remind: define('remind', REMIND),
      verify: define('verify', VERIFY),
      reissue: define('reissue', REISSUE),
      extend: define('extend', EXTEND),
    };
    this.audit = new AuditLog(redis, ns);
  }

  key(...parts: string[]): string {
    return [this.ns, ...parts].join(':');
  }

  /**
   * Registers a box layout in chunks of SYNC_BOX_CHUNK compartments: one script call each, all sent in
   * one pipeline (one round trip), so that a box of 10,000 compartments neither makes one giant
   * variadic call nor 10,000 round trips. Each chunk is atomic; a start that stops halfway leaves
   * the rest as it was, and the next start registers it again (the script is idempotent).
   */
  async syncBox(box: BoxDefinition): Promise<number> {
    const pipeline = this.redis.pipeline();
    const sync = (pipeline as unknown as Record<string, ((...a: (string | number)[]) => unknown) | undefined>).dokubox_sync_box;
    if (sync === undefined) throw new Error('script sync_box was not registered');
    for (let start = 0; start < box.compartments.length; start += SYNC_BOX_CHUNK) {
      const args: (string | number)[] = [this.ns, box.id];
      box.compartments.slice(start, start + SYNC_BOX_CHUNK).forEach((c, i) => args.push(c.id, c.accessible ? 'acc' : 'std', allocationScore(c, start + i)));
      sync.apply(pipeline, args);
    }
    return (await results(pipeline)).reduce<number>((sum, count) => sum + Number(count), 0);
  }

  async ingest(p: IngestParams): Promise<IngestResult> {
    const args: (string | number)[] = [
      this.ns,
      p.now,
      p.messageKey,
      p.fingerprint,
      p.pickupId,
      p.boxId,
      p.accessible ? '1' : '0',
      p.msgTtlSeconds,
      p.serialHashes.join(','),
      p.actor,
      p.authority,
      p.caseHash,
      p.statsDay,
      p.statsTtlSeconds,
    ];
    for (const [field, value] of Object.entries(p.fields)) args.push(field, value);
    let result: [string, string?, (string | string[])?, string[]?];
    if (this.replicaWait === undefined) {
      result = (await this.scripts.ingest(...args)) as typeof result;
    } else {
      const replicated = await this.replicaWait.evalAndWait(INGEST, args);
      result = replicated.reply as typeof result;
      if (result[0] !== 'unknown_box' && replicated.acknowledged < this.replicaWait.replicas) {
        throw new DokuboxError(
          'DEPENDENCY_UNAVAILABLE',
          `The notice is not yet safely stored: ${replicated.acknowledged} of ${this.replicaWait.replicas} Redis replica(s) confirmed it within ${this.replicaWait.timeoutMs} ms. Send it again with the same message id (see Retry-After); the answer will then say created or duplicate.`,
          { context: { replicasAcknowledged: replicated.acknowledged, replicasRequired: this.replicaWait.replicas } },
        );
      }
    }
    switch (result[0]) {
      case 'created':
        return { outcome: 'created', state: result[1] as PickupState, compartment: typeof result[2] === 'string' && result[2] !== '' ? result[2] : null };
      case 'existing': {
        const pickupId = result[1] ?? '';
        const hash = flatToRecord(Array.isArray(result[2]) ? result[2] : []);
        return { outcome: 'existing', pickupId, pickup: pickupFromHash(pickupId, hash, undefined), history: eventsOf(pickupId, result[3] ?? [], [hash.authority ?? null, hash.boxId ?? null, hash.messageId ?? null]) };
      }
      case 'conflict':
        return { outcome: 'conflict', pickupId: result[1] ?? '' };
      case 'unknown_box':
        throw new DokuboxError('UNKNOWN_BOX', `Box '${p.boxId}' is not registered.`, { field: 'boxId' });
      default:
        throw new Error(`unexpected ingest result ${String(result[0])}`);
    }
  }

  /** Returns the compartment after the transition, or throws for stale state and code collisions. */
  async transition(p: TransitionParams): Promise<{ outcome: 'ok'; compartment: string | null } | { outcome: 'stale'; state: PickupState } | { outcome: 'code_collision' }> {
    const deadline = p.deadline === undefined ? '' : p.deadline === null ? '-' : String(p.deadline);
    const args: (string | number)[] = [
      this.ns,
      p.now,
      p.pickupId,
      p.expected,
      p.to,
      p.reason,
      p.actor,
      p.release ?? '',
      p.dropCode ? '1' : '0',
      p.dropPersonal ? '1' : '0',
      p.markDefective ? '1' : '0',
      p.codeHash ?? '',
      deadline,
      p.retentionSeconds,
      p.stats?.day ?? '',
      p.stats?.counters.join(',') ?? '',
      p.stats?.durationSeconds ?? '',
      p.stats?.ttlSeconds ?? 0,
    ];
    for (const [field, value] of Object.entries(p.fields ?? {})) args.push(field, value);
    const result = (await this.scripts.transition(...args)) as string[];
    switch (result[0]) {
      case 'ok':
        return { outcome: 'ok', compartment: result[1] === '' || result[1] === undefined ? null : result[1] };
      case 'stale':
        return { outcome: 'stale', state: result[1] as PickupState };
      case 'code_collision':
        return { outcome: 'code_collision' };
      case 'not_found':
        throw new DokuboxError('NOT_FOUND', 'The pickup does not exist (or its retention period has ended).', { context: { pickupId: p.pickupId } });
      default:
        throw new Error(`unexpected transition result ${String(result[0])}`);
    }
  }

  /**
   * Appends an event that does not change the state (SMS outcomes). With
   * `once`, the event is recorded only the first time for that marker (a
   * field of the pickup hash, set atomically with the event); with `unless`,
   * not at all while that marker is set. Returns `not_found` when the pickup
   * is gone, `duplicate` when a marker held it back.
   */
  async annotate(
    now: string,
    pickupId: string,
    type: PickupEvent['type'],
    reason: string,
    actor: string,
    fields: Record<string, string> = {},
    guard: { once?: string; unless?: string } = {},
    smsKind = '',
    stats?: StatsCount,
  ): Promise<'ok' | 'duplicate' | 'not_found'> {
    const args: (string | number)[] = [this.ns, now, pickupId, type, reason, actor, guard.once ?? '', guard.unless ?? '', smsKind, stats?.day ?? '', stats?.counters.join(',') ?? '', stats?.ttlSeconds ?? 0];
    for (const [field, value] of Object.entries(fields)) args.push(field, value);
    const result = (await this.scripts.annotate(...args)) as string[];
    return result[0] === 'ok' ? 'ok' : result[0] === 'duplicate' ? 'duplicate' : 'not_found';
  }

  /**
   * Gives a notified pickup (or a loaded one whose SMS with the code failed) a new code (REISSUE): swaps the live code hash,
   * replaces the sealed personal data, clears verifyFailures and codeBlocked,
   * raises codeGeneration and appends a `pickup.code` event, atomically.
   */
  async reissueCode(p: ReissueParams): Promise<ReissueResult> {
    const result = (await this.scripts.reissue(this.ns, p.now, p.pickupId, p.expectedGeneration, p.maxGenerations, p.codeHash, p.sealed, p.actor)) as string[];
    switch (result[0]) {
      case 'ok':
        return { outcome: 'ok', generation: Number(result[1]) };
      case 'state':
        return { outcome: 'state', state: result[1] as PickupState };
      case 'stale':
      case 'limit':
        return { outcome: result[0], generation: Number(result[1]) };
      case 'code_collision':
        return { outcome: 'code_collision' };
      case 'not_found':
        throw new DokuboxError('NOT_FOUND', 'The pickup does not exist (or its personal data was deleted).', { context: { pickupId: p.pickupId } });
      default:
        throw new Error(`unexpected reissue result ${String(result[0])}`);
    }
  }

  /** How many new codes the pickup has had (0 while it has its first code). */
  async codeGeneration(pickupId: string): Promise<number> {
    return Number((await this.redis.hget(this.key('pickup', pickupId), 'codeGeneration')) ?? 0);
  }

  async compartmentAction(now: string, boxId: string, compartment: string, action: 'emptied' | 'defective' | 'repaired'): Promise<void> {
    const result = (await this.scripts.compartment(this.ns, now, boxId, compartment, action)) as string[];
    if (result[0] === 'unknown_compartment') {
      throw new DokuboxError('NOT_FOUND', `Compartment '${compartment}' does not exist in box '${boxId}'.`, { field: 'compartment' });
    }
    if (result[0] === 'held') {
      throw new DokuboxError('COMPARTMENT_UNAVAILABLE', `Compartment '${compartment}' still belongs to an open pickup; finish or cancel that pickup first.`, {
        context: { pickupId: result[1] ?? '' },
      });
    }
  }

  /** The box of a pickup; undefined when the pickup is gone. */
  async boxOf(pickupId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.key('pickup', pickupId), 'boxId')) ?? undefined;
  }

  async get(pickupId: string): Promise<StoredPickup | undefined> {
    const [h, pii] = (await results(this.redis.pipeline().hgetall(this.key('pickup', pickupId)).get(this.key('pii', pickupId)))) as [Record<string, string>, string | null];
    return pickupFromHash(pickupId, h, pii ?? undefined);
  }

  /** The pickup's events in seq order (the audit trail); empty once its retention ended. */
  async history(pickupId: string): Promise<PickupEvent[]> {
    const [entries, ids] = (await results(this.redis.pipeline().lrange(this.key('history', pickupId), 0, -1).hmget(this.key('pickup', pickupId), 'authority', 'boxId', 'messageId'))) as [
      string[],
      (string | null)[],
    ];
    return eventsOf(pickupId, entries, ids);
  }

  /** Seq of the last status report the case system acknowledged (0 before the first). */
  async reportedSeq(pickupId: string): Promise<number> {
    return Number((await this.redis.hget(this.key('pickup', pickupId), 'reportedSeq')) ?? 0);
  }

  /** Raises the report cursor; never lowers it. */
  async markReported(pickupId: string, seq: number): Promise<void> {
    await this.scripts.reported(this.ns, pickupId, seq);
  }

  /**
   * Pickups of an authority by the keyed hash of a case number or of a
   * document number: the open ones first, then the ended ones until their
   * retention ends, the most recently ended first (the ids of pickups that are
   * gone are returned too: callers skip them). Open pickups are in a set of
   * their own; open ones that versions before it indexed are in the sorted
   * set with the score +inf (scripts.ts).
   */
  async findIndexed(kind: 'case' | 'doc', authority: string, hash: string, limit = 100): Promise<string[]> {
    const [open, kept] = (await results(this.redis.pipeline().smembers(this.key('open', kind, authority, hash)).zrevrange(this.key(kind, authority, hash), 0, limit - 1))) as [
      string[],
      string[],
    ];
    const ids = new Set(open.sort().reverse());
    for (const id of kept) ids.add(id);
    return [...ids].slice(0, limit);
  }

  /**
   * Moves a notified pickup's deadline (EXTEND), with compare-and-set on the
   * deadline read before; writes the audit entry in the same step.
   */
  async extendDeadline(p: { now: string; pickupId: string; expected: number; deadline: number; actor: string; entry: AuditEntry }): Promise<'ok' | 'stale' | { state: PickupState }> {
    const result = (await this.scripts.extend(this.ns, p.now, p.pickupId, String(p.expected), String(p.deadline), p.actor, AUDIT_STREAM_MAX_LEN, JSON.stringify(p.entry))) as string[];
    if (result[0] === 'ok' || result[0] === 'stale') return result[0];
    if (result[0] === 'state') return { state: result[1] as PickupState };
    throw new DokuboxError('NOT_FOUND', 'The pickup does not exist (or its retention period has ended).', { context: { pickupId: p.pickupId } });
  }

  /** The dead-lettered status report of a pickup (src/case-system/reports.ts parks it in {ns}:case-reports:dead), if any. */
  async deadLetterOf(pickupId: string): Promise<{ seq: number; error: string; failedAt: string } | undefined> {
    const raw = await this.redis.hget(this.key('case-reports', 'dead'), pickupId);
    if (raw === null) return undefined;
    const dead = JSON.parse(raw) as { report: { seq: number }; error: string; failedAt: string };
    return { seq: dead.report.seq, error: dead.error, failedAt: dead.failedAt };
  }

  async findBySerialHash(boxId: string, serialHash: string): Promise<string | undefined> {
    return (await this.redis.hget(this.key('box', boxId, 'serials'), serialHash)) ?? undefined;
  }

  /**
   * Everything a verification reads, in one round trip, with the same Redis
   * commands whether `codeHash` is live at the box or not. `sealed` is the
   * pickup's sealed personal data, or undefined (then the answer carried a
   * filler of `padLength` characters instead).
   */
  async lookupForVerification(boxId: string, codeHash: string, padLength: number): Promise<VerificationLookup> {
    const [pickupId, state, compartment, storedHash, sealed, sealedFound, renewal, canHash, blocked] = (await this.scripts.verify(this.ns, boxId, codeHash, padLength)) as string[];
    if (!pickupId || !state) return { pickupId: undefined };
    return {
      pickupId,
      state: state as PickupState,
      compartment: compartment ? compartment : null,
      codeHash: storedHash ?? '',
      sealed: sealedFound === '1' ? sealed : undefined,
      renewal: renewal === '1',
      canHash: canHash ? canHash : undefined,
      codeBlocked: blocked === '1',
    };
  }

  async pickupIdForMessage(messageKey: string): Promise<string | undefined> {
    const value = await this.redis.get(this.key('msg', messageKey));
    if (value === null) return undefined;
    return value.slice(value.indexOf('|') + 1);
  }

  /** Who occupies a compartment: an open pickup holding it, or an ended one whose document is still inside. */
  async occupantOf(boxId: string, compartment: string): Promise<{ kind: 'holder' | 'retrieval'; pickupId: string } | undefined> {
    const [holder, retrieval] = await Promise.all([
      this.redis.hget(this.key('box', boxId, 'holder'), compartment),
      this.redis.hget(this.key('box', boxId, 'retrieval'), compartment),
    ]);
    if (holder !== null) return { kind: 'holder', pickupId: holder };
    if (retrieval !== null) return { kind: 'retrieval', pickupId: retrieval };
    return undefined;
  }

  /**
   * What the store says about some compartments of a box, in two round
   * trips: the open pickup holding each (with its state), the ended pickup
   * whose document staff must still take out, and whether it is defective.
   */
  async occupancy(boxId: string, compartments: string[]): Promise<Map<string, CompartmentOccupancy>> {
    const out = new Map<string, CompartmentOccupancy>();
    if (compartments.length === 0) return out;
    const [holders, retrievals, defective] = (await results(
      this.redis
        .pipeline()
        .hmget(this.key('box', boxId, 'holder'), ...compartments)
        .hmget(this.key('box', boxId, 'retrieval'), ...compartments)
        .smembers(this.key('box', boxId, 'defective')),
    )) as [(string | null)[], (string | null)[], string[]];
    const held = holders.filter((h): h is string => h !== null);
    const states = held.length === 0 ? [] : ((await results(held.reduce((pipeline, id) => pipeline.hget(this.key('pickup', id), 'state'), this.redis.pipeline()))) as (string | null)[]);
    const stateOf = new Map(held.map((id, i) => [id, (states[i] ?? undefined) as PickupState | undefined]));
    const broken = new Set(defective);
    compartments.forEach((compartment, i) => {
      const holder = holders[i] ?? null;
      const retrieval = retrievals[i] ?? null;
      out.set(compartment, {
        holder: holder === null ? null : { pickupId: holder, state: stateOf.get(holder) ?? null },
        retrievalOf: retrieval,
        defective: broken.has(compartment),
      });
    });
    return out;
  }

  async defective(boxId: string): Promise<string[]> {
    return this.redis.smembers(this.key('box', boxId, 'defective'));
  }

  async keepFarewell(pickupId: string, sealed: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.key('farewell', pickupId), sealed, 'EX', ttlSeconds);
  }

  async farewell(pickupId: string): Promise<string | undefined> {
    return (await this.redis.get(this.key('farewell', pickupId))) ?? undefined;
  }

  /** The state of each pickup (null where it is gone or the id is empty), in one round trip. */
  async pickupStates(ids: string[]): Promise<(string | null)[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.key('pickup', id === '' ? '-' : id), 'state');
    return (await results(pipeline)) as (string | null)[];
  }

  /** The pickup whose door a kiosk device opened last (the page follows it until the door closes). */
  async setDeviceOperation(deviceId: string, pickupId: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.key('kiosk', deviceId, 'operation'), pickupId, 'EX', ttlSeconds);
  }

  async deviceOperation(deviceId: string): Promise<string | undefined> {
    return (await this.redis.get(this.key('kiosk', deviceId, 'operation'))) ?? undefined;
  }

  /**
   * The door operations under way at a box (compartment → JSON of purpose,
   * pickup, actor), written before a door is commanded open and removed once
   * its closing is handled, so that the instance taking over a box after a
   * crash finishes what the dead one began.
   */
  async setDoorOperation(boxId: string, compartment: string, operation: string): Promise<void> {
    await this.redis.hset(this.key('box', boxId, 'door-ops'), compartment, operation);
  }

  async clearDoorOperation(boxId: string, compartment: string): Promise<void> {
    await this.redis.hdel(this.key('box', boxId, 'door-ops'), compartment);
  }

  async doorOperations(boxId: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key('box', boxId, 'door-ops'))));
  }

  /** Records whether a lock board (`gateway/board`) of a box answers; the instance driving it writes, every instance reads. */
  async setLinkState(boxId: string, link: string, online: boolean): Promise<void> {
    await this.redis.hset(this.key('box', boxId, 'links'), link, online ? '1' : '0');
  }

  async linkStates(boxId: string): Promise<Map<string, boolean>> {
    const links = await this.redis.hgetall(this.key('box', boxId, 'links'));
    return new Map(Object.entries(links).map(([link, value]) => [link, value === '1']));
  }

  async dropFarewell(pickupId: string): Promise<void> {
    await this.redis.del(this.key('farewell', pickupId));
  }

  /** Schedules (or moves) the reminder of a notified pickup; false when it is not notified. */
  async scheduleReminder(pickupId: string, at: number): Promise<boolean> {
    return Number(await this.scripts.remind(this.ns, pickupId, at)) === 1;
  }

  async dueReminders(nowMs: number, limit = 200): Promise<string[]> {
    return this.redis.zrangebyscore(this.key('reminders'), '-inf', nowMs, 'LIMIT', 0, limit);
  }

  async dropReminder(pickupId: string): Promise<void> {
    await this.redis.zrem(this.key('reminders'), pickupId);
  }

  async dueDeadlines(nowMs: number, limit = 200): Promise<string[]> {
    return this.redis.zrangebyscore(this.key('deadlines'), '-inf', nowMs, 'LIMIT', 0, limit);
  }

  async waitingList(boxId: string): Promise<string[]> {
    return this.redis.lrange(this.key('box', boxId, 'waiting'), 0, -1);
  }

  async listCompartments(box: BoxDefinition): Promise<CompartmentStatus[]> {
    const [holders, retrieval, defective] = await Promise.all([
      this.redis.hgetall(this.key('box', box.id, 'holder')),
      this.redis.hgetall(this.key('box', box.id, 'retrieval')),
      this.redis.smembers(this.key('box', box.id, 'defective')),
    ]);
    const heldIds = Object.values(holders);
    const pipeline = this.redis.pipeline();
    for (const id of heldIds) pipeline.hget(this.key('pickup', id), 'state');
    const states = new Map<string, string>();
    const replies = heldIds.length > 0 ? await results(pipeline) : [];
    heldIds.forEach((id, i) => states.set(id, String(replies[i] ?? '')));
    const broken = new Set(defective);
    return box.compartments.map((c) => {
      const holder = holders[c.id];
      const retrievalOf = retrieval[c.id];
      if (broken.has(c.id)) return { id: c.id, state: 'defective', pickupId: holder ?? retrievalOf ?? null };
      if (holder !== undefined) {
        const s = states.get(holder);
        const state: CompartmentState = s === 'reserved' ? 'reserved' : s === 'expired' ? 'retrieval' : 'occupied';
        return { id: c.id, state, pickupId: holder };
      }
      if (retrievalOf !== undefined) return { id: c.id, state: 'retrieval', pickupId: retrievalOf };
      return { id: c.id, state: 'free', pickupId: null };
    });
  }

  async stats(): Promise<{ pickups: Record<string, number> }> {
    const pickups = await this.redis.hgetall(this.key('stats', 'pickups'));
    return { pickups: Object.fromEntries(Object.entries(pickups).map(([k, v]) => [k, Number(v)])) };
  }
}
