/**
 * The audit trail of what staff and admins did: one capped Redis stream
 * (`{ns}:audit`, about AUDIT_STREAM_MAX_LEN entries) of who did what, when and
 * why, per authority. For a pickup, the action also leaves a `pickup.audit`
 * event in the pickup's own history (scripts.ts AUDIT) unless the history has
 * an event of it already (a cancellation, a new code). Entries carry ids,
 * actions and the reason the clerk gave, never personal data of applicants.
 */
import type { Redis } from 'ioredis';
import { DokuboxError } from '../core/errors.js';
import type { AuditAction } from '../core/events.js';
import { AUDIT } from './scripts.js';

/** About this many entries are kept (MAXLEN ~). */
export const AUDIT_STREAM_MAX_LEN = 100_000;

export interface AuditEntry {
  /** ISO 8601 time from the service clock. */
  at: string;
  /** `staff:{client}`, `admin:{client}`, `clerk:{username}` ... */
  actor: string;
  authority: string;
  action: AuditAction;
  pickupId?: string;
  boxId?: string;
  compartment?: string;
  /** Why, in the clerk's words (required for a reveal, a remote open, a deadline extension). */
  reason?: string;
  /** What changed, in words without personal data (e.g. the new deadline). */
  detail?: string;
}

export interface StoredAuditEntry extends AuditEntry {
  /** The stream id (time-ordered). */
  id: string;
}

/**
 * What the pickup's own history gets: `none`, `if_exists` (an event when the
 * pickup still exists), `required` (NOT_FOUND when it does not), `reveal`
 * (required, and the sealed personal data is returned in the same atomic step;
 * 409 when it was deleted).
 */
export type AuditAnnotation = 'none' | 'if_exists' | 'required' | 'reveal';

export interface AuditQuery {
  authority: string;
  pickupId?: string;
  boxId?: string;
  limit: number;
}

/** How many entries a query looks at, newest first, to find `limit` matches. */
const SCAN_LIMIT = 20_000;

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

export class AuditLog {
  private readonly script: ScriptFn;

  constructor(
    private readonly redis: Redis,
    private readonly ns: string,
  ) {
    const command = 'dokubox_audit';
    if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: 0, lua: AUDIT });
    const fn = (redis as unknown as Record<string, ScriptFn>)[command];
    if (fn === undefined) throw new Error('script audit was not registered');
    this.script = fn.bind(redis);
  }

  /** Appends an entry; with a pickup, also its history event (see AuditAnnotation). Returns the stream id, and for `reveal` the sealed personal data. */
  async record(entry: AuditEntry, annotate: AuditAnnotation = 'none'): Promise<{ id: string; sealed?: string }> {
    const result = (await this.script(this.ns, entry.at, AUDIT_STREAM_MAX_LEN, JSON.stringify(entry), entry.pickupId ?? '', entry.action, entry.actor, annotate)) as string[];
    if (result[0] === 'not_found') throw new DokuboxError('NOT_FOUND', 'No pickup with this reference exists for your authority.', { field: 'pickupId' });
    if (result[0] === 'personal_data_gone') {
      throw new DokuboxError('ILLEGAL_TRANSITION', 'The personal data of this pickup was deleted when the pickup ended; nothing to reveal.', { context: { pickupId: entry.pickupId ?? '' } });
    }
    return { id: result[1] ?? '', ...(result[2] ? { sealed: result[2] } : {}) };
  }

  /** Entries of an authority, newest first, optionally of one pickup or box. */
  async list(query: AuditQuery): Promise<StoredAuditEntry[]> {
    const out: StoredAuditEntry[] = [];
    let end = '+';
    let scanned = 0;
    while (out.length < query.limit && scanned < SCAN_LIMIT) {
      const batch = await this.redis.xrevrange(`${this.ns}:audit`, end, '-', 'COUNT', 500);
      if (batch.length === 0) break;
      for (const [id, fields] of batch) {
        scanned += 1;
        const raw = fields[fields.indexOf('a') + 1];
        if (raw === undefined) continue;
        const entry = JSON.parse(raw) as AuditEntry;
        if (entry.authority !== query.authority) continue;
        if (query.pickupId !== undefined && entry.pickupId !== query.pickupId) continue;
        if (query.boxId !== undefined && entry.boxId !== query.boxId) continue;
        out.push({ id, ...entry });
        if (out.length >= query.limit) break;
      }
      const last = batch[batch.length - 1]?.[0];
      if (last === undefined || batch.length < 500) break;
      end = `(${last}`;
    }
    return out;
  }
}
