/**
 * The pickup service: the one place where notices become pickups and pickups
 * change state. It validates with the domain core, decides effects with the
 * state machine, and lets the store apply them atomically. Inbound adapters
 * (REST, SOAP, kiosk, locker lifecycle) call it; outbound ones listen to the
 * events it causes.
 */
import { randomUUID } from 'node:crypto';
import type { BoxDefinition } from '../core/box.js';
import type { BoxCalendar } from '../core/calendar.js';
import { isoAt, type Clock } from '../core/clock.js';
import { hashCan, hashCode, generateCode, hashesEqual } from '../core/code.js';
import { factorsMatch, factorsWellFormed, type EnteredFactors } from '../core/pickup-policy.js';
import type { DocumentTypeCatalog } from '../core/documents.js';
import type { SmsEventReason } from '../core/events.js';
import { DokuboxError } from '../core/errors.js';
import { localDayOf } from '../core/local-day.js';
import { secondsToPickup, smsCounters, STATS_FALLBACK_TIME_ZONE, STATS_TTL_DAYS, transitionCounters } from '../core/statistics.js';
import { fingerprintContent, parseNotice } from '../core/notice.js';
import { effectsOf, lastFaultOf, transition as checkTransition, type PickupState, type TransitionReason } from '../core/pickup.js';
import { keyedHash, stableStringify, type PersonalData, type PiiCipher } from '../security/pii-cipher.js';
import type { PickupStore, StatsCount, StoredPickup } from '../store/pickup-store.js';
import type { AlarmSink } from '../store/alarms.js';
import { reportFor } from '../case-system/reports.js';
import { maskDateOfBirth, maskMobile, maskName } from '../core/masking.js';
import type { PickupEvent } from '../core/events.js';
import type { AuditAnnotation, AuditEntry, StoredAuditEntry } from '../store/audit.js';
import type { AttemptGuard, ClientIdentity, PickupPort, PickupRef, PickupSearch, PickupStory, PickupView, RevealedPerson, StoryEvent, SubmitResult } from './types.js';

export interface PickupServiceOptions {
  store: PickupStore;
  boxes: ReadonlyMap<string, BoxDefinition>;
  calendars: ReadonlyMap<string, BoxCalendar>;
  catalog: DocumentTypeCatalog;
  cipher: PiiCipher;
  /** Base64 secret for code hashes, fingerprints and lookup indexes. */
  secret: string;
  /** Domain time (simulated with SIMULATED_TIME): deadlines, reminders, opening hours, event timestamps. */
  clock: Clock;
  /** Wall time for attempt limits and pauses, which hold off real people trying codes; default `clock`. */
  wallClock?: Clock;
  idempotencyTtlDays: number;
  auditRetentionDays: number;
  newId?: () => string;
  randomCode?: () => string;
  /** Attempt limits of verification; none: unlimited (unit tests of other parts). */
  attempts?: AttemptGuard;
  alarms?: AlarmSink;
  /** `ignore` lets a box open outside its opening hours (the simulated world at night; never in production). */
  openingHours?: 'enforce' | 'ignore';
}

export interface SmsRecipientData {
  mobile: string;
  code?: string;
  language: string;
  location: string;
  deadline: number;
  hours: BoxDefinition['openingHours'];
  timeZone: string;
}

export interface VerificationResult {
  pickupId: string;
  compartment: string;
}

/** The failure of a verification: the same for every cause, with the device's attempt count. */
export interface VerificationFailureContext {
  /** Failed attempts of this device within the window. */
  failures: number;
  /** Failed attempts left before the device pauses. */
  remaining: number;
  /** When the device paused with this failure: the end of the pause (ms). */
  pausedUntil?: number;
}

/** Working days staff may extend a notified pickup's deadline by at once. */
export const MAX_EXTENSION_WORKING_DAYS = 10;

/** The actor of an API client's action: `staff:{id}`, `admin:{id}`, `case-system:{id}`. */
export function actorOf(client: ClientIdentity): string {
  return `${client.role === 'admin' ? 'admin' : client.role === 'case-system' ? 'case-system' : 'staff'}:${client.id}`;
}

/** Case numbers are compared ignoring letter case and whitespace (` az 12/3 ` finds `AZ12/3`); other characters count. */
export function normaliseCaseNumber(caseNumber: string): string {
  return caseNumber.replace(/\s+/g, '').toUpperCase();
}

/** The SMS behind an SMS event, for the story. */
function smsOf(event: PickupEvent): PickupStory['sms'][number] | undefined {
  const kind = (['ready', 'reminder', 'code', 'expired', 'cancelled'] as const).find((k) => k === event.smsKind) ?? 'unknown';
  if (event.type === 'pickup.transitioned' && event.reason === 'sms_accepted') return { seq: event.seq, kind: 'ready', status: 'accepted', at: event.at };
  if (event.type !== 'pickup.sms') return undefined;
  switch (event.reason) {
    case 'reminder_sent':
      return { seq: event.seq, kind: 'reminder', status: 'sent', at: event.at };
    case 'code_sent':
      return { seq: event.seq, kind: 'code', status: 'sent', at: event.at };
    case 'sms_accepted_by_gateway':
      return { seq: event.seq, kind, status: 'accepted', at: event.at };
    case 'sms_delivered':
      return { seq: event.seq, kind, status: 'delivered', at: event.at };
    case 'sms_undeliverable':
      return { seq: event.seq, kind, status: 'undeliverable', at: event.at };
    case 'sms_failed':
      return { seq: event.seq, kind, status: 'failed', at: event.at };
    default:
      return undefined;
  }
}

/** Failed attempts within the window after which a device pauses. */
export const DEVICE_FAILURE_LIMIT = 5;

const MAX_CAS_RETRIES = 5;

/** New codes staff may issue for one pickup (PickupService.issueNewCode); after that the document is handed over at the counter. */
export const MAX_NEW_CODES = 5;

/** Why a pickup in `state` gets no new code, and what to do instead. */
function newCodeRefusal(state: PickupState): string {
  switch (state) {
    case 'waiting':
    case 'reserved':
      return `This pickup is '${state}': its document is not in the box yet, so it has no code to replace; the code is sent by SMS once staff have loaded the document.`;
    case 'loaded':
      return "This pickup is 'loaded': the SMS with its first code is still on its way; issue a new code once the pickup is 'notified' (the gateway accepted that SMS) or that SMS has failed (an sms_failed alarm).";
    case 'expired':
      return "This pickup is 'expired': its code is dead and the document waits in the box for staff; take it out (open the compartment) and hand it over at the counter.";
    case 'fault':
      return "This pickup is 'fault': the box could not hand the document out; resolve the fault first (the pickup is then served again and gets a fresh code when loaded).";
    default:
      return `This pickup is '${state}' and has ended; it has no code any more.`;
  }
}

/** What clients see of a pickup: its record and its history without staff's audit events. */
function viewOf(pickupId: string, pickup: StoredPickup | undefined, history: PickupEvent[]): PickupView {
  if (pickup === undefined) throw new DokuboxError('NOT_FOUND', 'The pickup does not exist.', { context: { pickupId } });
  return {
    id: pickup.id,
    messageId: pickup.messageId,
    authority: pickup.authority,
    caseNumber: pickup.caseNumber,
    boxId: pickup.boxId,
    state: pickup.state,
    compartment: pickup.compartment,
    documentTypes: pickup.documentTypes,
    language: pickup.language,
    accessible: pickup.accessible,
    createdAt: pickup.createdAt,
    updatedAt: pickup.updatedAt,
    notifiedAt: pickup.notifiedAt ?? null,
    deadline: pickup.deadline === undefined ? null : new Date(pickup.deadline).toISOString(),
    // Staff's audit events are for staff (the story), not for the case system, which sees this view too.
    history: history.filter((e) => e.type !== 'pickup.audit').map((e) => ({ seq: e.seq, from: e.from, to: e.to, reason: e.reason, actor: e.actor, at: e.at })),
  };
}

export class PickupService implements PickupPort {
  private readonly newId: () => string;
  private readonly randomCode: () => string;
  /**
   * What a verification decrypts and compares when no pickup matches: a
   * sealed record shaped like a real one (same key, an id of a pickup id's
   * length, typical field lengths) and a code hash nobody can enter.
   */
  private readonly decoy: { id: string; sealed: string; codeHash: string };

  constructor(private readonly o: PickupServiceOptions) {
    this.newId = o.newId ?? randomUUID;
    this.randomCode = o.randomCode ?? (() => generateCode());
    const decoyId = randomUUID();
    this.decoy = {
      id: decoyId,
      sealed: o.cipher.seal(decoyId, {
        familyName: 'Xxxxxxxxxxxx',
        givenNames: 'Xxxxxxxxxxx',
        dateOfBirth: '1900-01-01',
        mobile: '+490000000000',
        serialNumbers: ['X00000000'],
        code: '000000',
      }),
      codeHash: keyedHash(o.secret, 'verification-decoy', decoyId),
    };
  }

  private nowIso(): string {
    return isoAt(this.o.clock);
  }

  /** Wall time (attempt limits); the domain clock unless another is given. */
  private wallNow(): number {
    return (this.o.wallClock ?? this.o.clock).now();
  }

  private get codeSecret(): Buffer {
    return Buffer.from(this.o.secret, 'base64');
  }

  private caseHash(caseNumber: string): string {
    return keyedHash(this.o.secret, 'case', normaliseCaseNumber(caseNumber));
  }

  private serialHash(serial: string): string {
    return keyedHash(this.o.secret, 'serial', serial.trim().toUpperCase());
  }

  box(client: ClientIdentity, boxId: string): BoxDefinition {
    const box = this.o.boxes.get(boxId);
    if (box === undefined || box.authority !== client.authority) {
      throw new DokuboxError('UNKNOWN_BOX', `Box '${boxId}' is not known for your authority; check the box id (GET /v1/boxes lists yours).`, { field: 'boxId' });
    }
    return box;
  }

  boxesOf(client: ClientIdentity): BoxDefinition[] {
    return [...this.o.boxes.values()].filter((b) => b.authority === client.authority);
  }

  async submitNotice(client: ClientIdentity, input: unknown): Promise<SubmitResult> {
    const notice = parseNotice(input, this.o.catalog);
    if (notice.authority !== client.authority) {
      throw new DokuboxError('FORBIDDEN', `This client may only submit notices for authority '${client.authority}'; field authority names another one.`, { field: 'authority' });
    }
    const box = this.box(client, notice.boxId);
    if (notice.renewal && notice.oldCardCan === undefined && box.pickup.steps.includes('dateOfBirthOrCan')) {
      // Such a box asks a renewal for the old card's CAN instead of the date of birth: without it the pickup could never be collected.
      throw new DokuboxError('VALIDATION_FAILED', `Box '${box.id}' asks applicants who renew a card for the old card's CAN; field oldCardCan (6 digits) is required when renewal is true.`, { field: 'oldCardCan' });
    }
    const pickupId = this.newId();
    const now = this.nowIso();
    const personal: PersonalData = {
      familyName: notice.person.familyName,
      givenNames: notice.person.givenNames,
      dateOfBirth: notice.person.dateOfBirth,
      mobile: notice.mobile,
      serialNumbers: notice.documents.map((d) => d.serialNumber),
    };
    const serialHashes = notice.documents.map((d) => this.serialHash(d.serialNumber));
    const caseHash = this.caseHash(notice.caseNumber);
    const actor = `case-system:${client.id}`;
    const documentTypes = notice.documents.map((d) => d.type);
    const result = await this.o.store.ingest({
      now,
      messageKey: `${notice.authority}:${notice.messageId}`,
      fingerprint: keyedHash(this.o.secret, 'notice', stableStringify(fingerprintContent(notice))),
      pickupId,
      boxId: box.id,
      accessible: notice.accessible,
      msgTtlSeconds: this.o.idempotencyTtlDays * 86_400,
      serialHashes,
      actor,
      authority: notice.authority,
      caseHash,
      statsDay: localDayOf(box.timeZone, now),
      statsTtlSeconds: STATS_TTL_DAYS * 86_400,
      // The script writes id, authority, boxId, accessible, serialIndex, caseIndex, createdAt and updatedAt
      // from the arguments above (one of the documents' keyed hashes fits Redis's compact hash encoding).
      fields: {
        messageId: notice.messageId,
        caseNumber: notice.caseNumber,
        renewal: notice.renewal ? '1' : '0',
        // The old card's CAN only as a keyed hash, never in clear (not even sealed); dropped with the personal data.
        ...(notice.oldCardCan === undefined ? {} : { canHash: hashCan(this.codeSecret, box.id, notice.oldCardCan) }),
        language: notice.language,
        documentTypes: JSON.stringify(documentTypes),
        pii: this.o.cipher.seal(pickupId, personal),
      },
    });
    if (result.outcome === 'conflict') {
      throw new DokuboxError('IDEMPOTENCY_CONFLICT', `Message id '${notice.messageId}' was already used for a different notice; send a new message id for new content.`, {
        field: 'messageId',
        context: { pickupId: result.pickupId },
      });
    }
    // The answer comes from the ingest's own reply (one round trip): a duplicate's stored record and history,
    // or the new pickup as the script wrote it (the first event is its whole history).
    if (result.outcome === 'existing') return { outcome: 'duplicate', pickup: viewOf(result.pickupId, result.pickup, result.history) };
    return {
      outcome: 'created',
      pickup: {
        id: pickupId,
        messageId: notice.messageId,
        authority: notice.authority,
        caseNumber: notice.caseNumber,
        boxId: box.id,
        state: result.state,
        compartment: result.compartment,
        documentTypes,
        language: notice.language,
        accessible: notice.accessible,
        createdAt: now,
        updatedAt: now,
        notifiedAt: null,
        deadline: null,
        history: [{ seq: 1, from: null, to: result.state, reason: 'notice_received', actor, at: now }],
      },
    };
  }

  private async resolve(client: ClientIdentity, ref: PickupRef): Promise<StoredPickup> {
    const id = 'pickupId' in ref ? ref.pickupId : await this.o.store.pickupIdForMessage(`${client.authority}:${ref.messageId}`);
    const pickup = id === undefined ? undefined : await this.o.store.get(id);
    if (pickup === undefined || pickup.authority !== client.authority) {
      throw new DokuboxError('NOT_FOUND', 'No pickup with this reference exists for your authority.', { field: 'pickupId' in ref ? 'pickupId' : 'messageId' });
    }
    return pickup;
  }

  async getPickup(client: ClientIdentity, ref: PickupRef): Promise<PickupView> {
    const pickup = await this.resolve(client, ref);
    return this.view(pickup.id, pickup);
  }

  async view(pickupId: string, known?: StoredPickup): Promise<PickupView> {
    // Both reads in one round trip (the same connection pipelines them).
    const [pickup, history] = await Promise.all([known ?? this.o.store.get(pickupId), this.o.store.history(pickupId)]);
    return viewOf(pickupId, pickup, history);
  }

  async cancelPickup(client: ClientIdentity, ref: PickupRef, reason: 'cancelled_by_case_system' | 'cancelled_by_staff', actor?: string, why?: string): Promise<PickupView> {
    const pickup = await this.resolve(client, ref);
    const by = actor ?? `${client.role === 'case-system' ? 'case-system' : 'staff'}:${client.id}`;
    await this.apply(pickup.id, 'cancelled', reason, by);
    // Staff cancelling is audited (the history has the transition with the actor already); `why` is the clerk's reason.
    if (client.role !== 'case-system') await this.audit({ actor: by, authority: client.authority, action: 'pickup_cancelled', pickupId: pickup.id, boxId: pickup.boxId, detail: reason, ...(why === undefined ? {} : { reason: why }) });
    return this.view(pickup.id);
  }

  /**
   * Records an action of staff in the audit trail (src/store/audit.ts); for
   * `annotate` see AuditAnnotation. `at` is the service clock's now.
   */
  async audit(entry: Omit<AuditEntry, 'at'>, annotate: AuditAnnotation = 'none'): Promise<{ id: string; sealed?: string }> {
    return this.o.store.audit.record({ at: this.nowIso(), ...entry }, annotate);
  }

  /** Audit entries of the client's authority, newest first. A box must be one of the authority's. */
  async auditTrail(client: ClientIdentity, query: { pickupId?: string; boxId?: string; limit: number }): Promise<StoredAuditEntry[]> {
    if (query.boxId !== undefined) this.box(client, query.boxId);
    return this.o.store.audit.list({ authority: client.authority, limit: query.limit, ...(query.pickupId === undefined ? {} : { pickupId: query.pickupId }), ...(query.boxId === undefined ? {} : { boxId: query.boxId }) });
  }

  /**
   * Pickups of the client's authority by case number or document number,
   * newest first: open ones, and ended ones until AUDIT_RETENTION_DAYS after
   * their end. Matched through keyed hashes of the normalised numbers (the
   * search indexes written at ingest), never by decrypting personal data.
   */
  async findPickups(client: ClientIdentity, query: PickupSearch): Promise<PickupView[]> {
    const ids =
      'caseNumber' in query
        ? await this.o.store.findIndexed('case', client.authority, this.caseHash(query.caseNumber))
        : await this.o.store.findIndexed('doc', client.authority, this.serialHash(query.documentNumber));
    const views: PickupView[] = [];
    for (const id of ids) {
      const pickup = await this.o.store.get(id);
      if (pickup === undefined || pickup.authority !== client.authority) continue; // its retention ended
      views.push(await this.view(id, pickup));
    }
    return views.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * A pickup's story for staff: every event of its history, the SMS and the
   * reports to the case system with their delivery state, and the personal
   * data masked (null once deleted). Reveal it with revealPersonalData.
   */
  async pickupStory(client: ClientIdentity, pickupId: string): Promise<PickupStory> {
    const stored = await this.resolve(client, { pickupId });
    const [view, history, reportedSeq, dead] = await Promise.all([
      this.view(stored.id, stored),
      this.o.store.history(stored.id),
      this.o.store.reportedSeq(stored.id),
      this.o.store.deadLetterOf(stored.id),
    ]);
    const { history: _history, ...pickup } = view;
    const timeline: StoryEvent[] = history.map((e) => ({ seq: e.seq, type: e.type, from: e.from, to: e.to, reason: e.reason, actor: e.actor, at: e.at, compartment: e.compartment }));
    const sms = history.map(smsOf).filter((s): s is NonNullable<typeof s> => s !== undefined);
    const reports: PickupStory['reports'] = [];
    for (const event of history) {
      const report = reportFor(event);
      if (report === undefined) continue;
      const delivery = report.seq <= reportedSeq ? 'delivered' : dead !== undefined && dead.seq === report.seq ? 'dead' : 'pending';
      reports.push({ seq: report.seq, status: report.status, reason: report.reason, occurredAt: report.occurredAt, delivery, ...(delivery === 'dead' && dead !== undefined ? { error: dead.error } : {}) });
    }
    let person: PickupStory['person'] = null;
    if (stored.pii !== undefined) {
      const personal = this.personalData(stored);
      person = { name: maskName(personal.givenNames, personal.familyName), mobile: maskMobile(personal.mobile), dateOfBirth: maskDateOfBirth(personal.dateOfBirth) };
    }
    return { pickup, timeline, sms, reports, person };
  }

  /**
   * The full name, mobile number and date of birth of an open pickup, for a
   * clerk who gave a reason: the audit entry (and the pickup's `pickup.audit`
   * event) is written in the same atomic step that reads the sealed data, so
   * nothing is revealed without its entry. ILLEGAL_TRANSITION (409) once the
   * personal data is deleted.
   */
  async revealPersonalData(client: ClientIdentity, pickupId: string, reason: string, actor: string = actorOf(client)): Promise<RevealedPerson> {
    const pickup = await this.resolve(client, { pickupId });
    const { sealed } = await this.audit({ actor, authority: client.authority, action: 'personal_data_revealed', pickupId: pickup.id, boxId: pickup.boxId, reason }, 'reveal');
    if (sealed === undefined) throw new DokuboxError('ILLEGAL_TRANSITION', 'The personal data of this pickup was deleted when the pickup ended; nothing to reveal.', { context: { pickupId } });
    const personal = this.o.cipher.open(pickup.id, sealed);
    return { pickupId: pickup.id, familyName: personal.familyName, givenNames: personal.givenNames, dateOfBirth: personal.dateOfBirth, mobile: personal.mobile };
  }

  /**
   * Moves a notified pickup's deadline by `workingDays` working days of its
   * box's calendar (to the closing time of that day): the expiry sweep and
   * the reminder follow. Audited; no report to the case system (the state
   * does not change).
   */
  async extendDeadline(client: ClientIdentity, pickupId: string, workingDays: number, reason: string, actor: string = actorOf(client)): Promise<PickupView> {
    if (!Number.isInteger(workingDays) || workingDays < 1 || workingDays > MAX_EXTENSION_WORKING_DAYS) {
      throw new DokuboxError('VALIDATION_FAILED', `Field workingDays must be a whole number from 1 to ${MAX_EXTENSION_WORKING_DAYS}.`, { field: 'workingDays' });
    }
    const id = (await this.resolve(client, { pickupId })).id;
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt += 1) {
      const pickup = await this.o.store.get(id);
      if (pickup === undefined) throw new DokuboxError('NOT_FOUND', 'The pickup does not exist.', { context: { pickupId } });
      const calendar = this.o.calendars.get(pickup.boxId);
      if (pickup.state !== 'notified' || pickup.deadline === undefined || calendar === undefined) {
        throw new DokuboxError('ILLEGAL_TRANSITION', `This pickup is '${pickup.state}'; only a notified pickup (its applicant has the code) has a deadline to extend.`, { context: { pickupId, state: pickup.state } });
      }
      const deadline = calendar.deadline(pickup.deadline, workingDays);
      const from = new Date(pickup.deadline).toISOString();
      const to = new Date(deadline).toISOString();
      const result = await this.o.store.extendDeadline({
        now: this.nowIso(),
        pickupId: id,
        expected: pickup.deadline,
        deadline,
        actor,
        entry: { at: this.nowIso(), actor, authority: client.authority, action: 'deadline_extended', pickupId: id, boxId: pickup.boxId, reason, detail: `deadline ${from} -> ${to} (+${workingDays} working days)` },
      });
      if (result === 'ok') return this.view(id);
      if (result !== 'stale') {
        throw new DokuboxError('ILLEGAL_TRANSITION', `This pickup is '${result.state}'; only a notified pickup has a deadline to extend.`, { context: { pickupId, state: result.state } });
      }
    }
    throw new DokuboxError('CONCURRENT_UPDATE', 'The pickup changed concurrently several times; retry the request.', { context: { pickupId } });
  }

  /**
   * Applies a transition with compare-and-set: reads the state, asks the
   * state machine, lets the store apply the effects atomically; retries when
   * another instance changed the pickup in between.
   */
  async apply(
    pickupId: string,
    to: PickupState,
    reason: TransitionReason,
    actor: string,
    extra: { fields?: Record<string, string>; deadline?: number; codeHash?: string; release?: 'retrieval' } = {},
  ): Promise<StoredPickup> {
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt += 1) {
      const pickup = await this.o.store.get(pickupId);
      if (pickup === undefined) throw new DokuboxError('NOT_FOUND', 'The pickup does not exist.', { context: { pickupId } });
      checkTransition(pickup.state, to, reason);
      const effects = effectsOf(pickup.state, to);
      if (to === 'cancelled' && pickup.notifiedAt !== undefined && pickup.pii !== undefined) {
        // The applicant was told to come; keep only the number, sealed, until the cancellation SMS is out (at most 2 days).
        const personal = this.personalData(pickup);
        await this.o.store.keepFarewell(pickupId, this.o.cipher.seal(pickupId, { familyName: '', givenNames: '', dateOfBirth: '', mobile: personal.mobile, serialNumbers: [] }), 2 * 86_400);
      }
      const now = this.nowIso();
      const params = {
        now,
        pickupId,
        expected: pickup.state,
        to,
        reason,
        actor,
        release: extra.release ?? effects.release,
        dropCode: effects.dropCode,
        dropPersonal: effects.dropPersonal,
        markDefective: effects.markDefective,
        retentionSeconds: effects.dropPersonal ? this.o.auditRetentionDays * 86_400 : 0,
        ...(extra.codeHash === undefined ? {} : { codeHash: extra.codeHash }),
        ...(extra.deadline !== undefined ? { deadline: extra.deadline } : effects.clearDeadline ? { deadline: null } : {}),
        ...(extra.fields === undefined ? {} : { fields: extra.fields }),
        ...this.statsOf(pickup.boxId, now, transitionCounters(to), to === 'collected' ? secondsToPickup(pickup.notifiedAt, now) : undefined),
      };
      const result = await this.o.store.transition(params);
      if (result.outcome === 'ok') return (await this.o.store.get(pickupId)) as StoredPickup;
      if (result.outcome === 'code_collision') throw new DokuboxError('CODE_SPACE_EXHAUSTED', 'The drawn pickup code is live at this box already; retry.', { context: { pickupId } });
    }
    throw new DokuboxError('CONCURRENT_UPDATE', 'The pickup changed concurrently several times; retry the request.', { context: { pickupId } });
  }

  /** Staff scanned a document number at a box: the reserved pickup it belongs to. */
  async findForLoading(client: ClientIdentity, boxId: string, serialNumber: string): Promise<StoredPickup> {
    const box = this.box(client, boxId);
    const pickupId = await this.o.store.findBySerialHash(box.id, this.serialHash(serialNumber));
    const pickup = pickupId === undefined ? undefined : await this.o.store.get(pickupId);
    if (pickup === undefined) {
      throw new DokuboxError('NOT_FOUND', 'No open pickup at this box has this document number; check the number or whether the case system has sent the notice.', { field: 'serialNumber' });
    }
    if (pickup.state !== 'reserved') {
      throw new DokuboxError('ILLEGAL_TRANSITION', `This document's pickup is '${pickup.state}', not 'reserved'; it cannot be loaded now.`, { context: { pickupId: pickup.id, state: pickup.state } });
    }
    return pickup;
  }

  /**
   * The document is in its compartment: draw a code that is not live at the
   * box, keep it sealed for the SMS, and mark the pickup loaded.
   */
  async markLoaded(pickupId: string, actor: string): Promise<StoredPickup> {
    const pickup = await this.o.store.get(pickupId);
    if (pickup === undefined) throw new DokuboxError('NOT_FOUND', 'The pickup does not exist.', { context: { pickupId } });
    checkTransition(pickup.state, 'loaded', 'staff_loaded');
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const code = this.randomCode();
      const personal = this.personalData(pickup);
      try {
        return await this.apply(pickupId, 'loaded', 'staff_loaded', actor, {
          codeHash: hashCode(this.codeSecret, pickup.boxId, code),
          fields: { loadedAt: this.nowIso(), pii: this.o.cipher.seal(pickupId, { ...personal, code }) },
        });
      } catch (error) {
        if (error instanceof DokuboxError && error.code === 'CODE_SPACE_EXHAUSTED') continue;
        throw error;
      }
    }
    throw new DokuboxError('CODE_SPACE_EXHAUSTED', 'No free pickup code could be drawn for this box; retry.', { context: { pickupId } });
  }

  /**
   * Staff give a notified pickup a new code (its old one was blocked at the
   * box, or the applicant lost the SMS): a fresh code, unique among the box's
   * live codes, replaces the old one, which no longer verifies; the failed
   * verifications and the block are cleared. The SMS with the new code is
   * queued from the event stream (the `pickup.code` event, once per code
   * generation). At most MAX_NEW_CODES per pickup. Nothing is reported to
   * the case system (the state does not change).
   */
  async issueNewCode(client: ClientIdentity, ref: PickupRef, actor: string, reason?: string): Promise<{ pickup: PickupView; codeGeneration: number }> {
    const pickupId = (await this.resolve(client, ref)).id;
    let stale = 0;
    for (let draw = 0; draw < 20; ) {
      const [pickup, generation] = await Promise.all([this.o.store.get(pickupId), this.o.store.codeGeneration(pickupId)]);
      if (pickup === undefined) throw new DokuboxError('NOT_FOUND', 'The pickup does not exist.', { context: { pickupId } });
      if (pickup.state !== 'notified' && !(pickup.state === 'loaded' && pickup.smsFailed)) {
        throw new DokuboxError('ILLEGAL_TRANSITION', `${newCodeRefusal(pickup.state)} A new code is only issued while the pickup is 'notified', or 'loaded' after the SMS with its code failed.`, {
          context: { pickupId, state: pickup.state },
        });
      }
      if (generation >= MAX_NEW_CODES) {
        throw new DokuboxError(
          'CODE_LIMIT_REACHED',
          `This pickup has had ${generation} new codes, the most allowed (${MAX_NEW_CODES}); hand the document over at the counter instead: cancel the pickup (reason cancelled_by_staff) and take the document out of its compartment.`,
          { context: { pickupId, codeGeneration: generation } },
        );
      }
      const code = this.randomCode();
      const result = await this.o.store.reissueCode({
        now: this.nowIso(),
        pickupId,
        expectedGeneration: generation,
        maxGenerations: MAX_NEW_CODES,
        codeHash: hashCode(this.codeSecret, pickup.boxId, code),
        sealed: this.o.cipher.seal(pickupId, { ...this.personalData(pickup), code }),
        actor,
      });
      if (result.outcome === 'ok') {
        // The history has the `pickup.code` event with the actor; the audit stream gets the entry.
        await this.audit({ actor, authority: client.authority, action: 'code_issued', pickupId, boxId: pickup.boxId, detail: `code generation ${result.generation}`, ...(reason === undefined ? {} : { reason }) });
        return { pickup: await this.view(pickupId), codeGeneration: result.generation };
      }
      if (result.outcome === 'code_collision') {
        draw += 1;
        continue;
      }
      // Changed in between (state, generation, or the limit reached by a concurrent call): read again and decide anew.
      stale += 1;
      if (stale >= MAX_CAS_RETRIES) throw new DokuboxError('CONCURRENT_UPDATE', 'The pickup changed concurrently several times; retry the request.', { context: { pickupId } });
    }
    throw new DokuboxError('CODE_SPACE_EXHAUSTED', 'No free pickup code could be drawn for this box; retry.', { context: { pickupId } });
  }

  /** The gateway accepted the SMS: the deadline starts now. */
  async markNotified(pickupId: string, actor = 'system'): Promise<StoredPickup> {
    const pickup = await this.o.store.get(pickupId);
    if (pickup === undefined) throw new DokuboxError('NOT_FOUND', 'The pickup does not exist.', { context: { pickupId } });
    const box = this.o.boxes.get(pickup.boxId);
    const calendar = this.o.calendars.get(pickup.boxId);
    if (box === undefined || calendar === undefined) throw new DokuboxError('UNKNOWN_BOX', `Box '${pickup.boxId}' is no longer configured.`);
    const now = this.o.clock.now();
    return this.apply(pickupId, 'notified', 'sms_accepted', actor, {
      deadline: this.deadlineFromNow(box, calendar, now),
      fields: { notifiedAt: new Date(now).toISOString() },
    });
  }

  /** The deadline a pickup of `box` gets when it becomes notified at `now`; the SMS that makes it so announces it. */
  private deadlineFromNow(box: BoxDefinition, calendar: BoxCalendar, now = this.o.clock.now()): number {
    return calendar.deadline(now, box.deadlineWorkingDays);
  }

  /** Personal data of an open pickup, for the SMS worker and verification only. */
  personalData(pickup: StoredPickup): PersonalData {
    if (pickup.pii === undefined) throw new DokuboxError('NOT_FOUND', 'The personal data of this pickup was deleted (the pickup has ended).', { context: { pickupId: pickup.id } });
    return this.o.cipher.open(pickup.id, pickup.pii);
  }

  /**
   * Whether the box is open for pickups now; throws BOX_CLOSED with the next
   * opening time otherwise (outside opening hours, on a public holiday).
   */
  assertOpen(box: BoxDefinition): void {
    if (this.o.openingHours === 'ignore') return;
    const calendar = this.o.calendars.get(box.id);
    const now = this.o.clock.now();
    if (calendar === undefined || calendar.isOpen(now)) return;
    const next = calendar.nextOpening(now);
    throw new DokuboxError('BOX_CLOSED', `Box '${box.id}' is closed now${next === undefined ? '' : `; it opens again at ${new Date(next).toISOString()}`}. Nothing opens outside opening hours.`, {
      context: next === undefined ? {} : { nextOpening: new Date(next).toISOString() },
    });
  }

  /** Whether the box is open now, and when it opens next. */
  openingState(box: BoxDefinition): { open: boolean; nextOpening: number | undefined } {
    const calendar = this.o.calendars.get(box.id);
    const now = this.o.clock.now();
    if (this.o.openingHours === 'ignore' || calendar === undefined) return { open: true, nextOpening: now };
    const open = calendar.isOpen(now);
    return { open, nextOpening: open ? now : calendar.nextOpening(now) };
  }

  /** Throws KIOSK_PAUSED while a device pauses after too many failed attempts. */
  async assertNotPaused(deviceId: string): Promise<void> {
    if (this.o.attempts === undefined) return;
    const status = await this.o.attempts.status(deviceId, this.wallNow());
    if (status.paused) {
      throw new DokuboxError('KIOSK_PAUSED', `Too many failed attempts at this device; it accepts entries again at ${new Date(status.until).toISOString()}, or when staff release it.`, {
        context: { pausedUntil: new Date(status.until).toISOString(), level: status.level },
      });
    }
  }

  /**
   * Checks what the applicant entered at a box against the box's policy
   * (core/pickup-policy.ts): the code always, then mobile number, date of
   * birth or the old card's CAN. Fails with one message for every reason, so
   * a caller learns nothing about which part was wrong or whether the code
   * exists; and does the same work either way, so the answer time does not
   * tell either: one Redis round trip with the same commands, one decryption
   * of a sealed record of the usual size with the same key (a decoy when no
   * pickup matches), every comparison in constant time, and one attempt
   * record. A failure counts against the device (`deviceId`, a kiosk or an
   * API client) and, when the code is live, against its pickup: after a few
   * the code is blocked until staff issue a new one.
   */
  async verify(client: ClientIdentity, boxId: string, entered: EnteredFactors, deviceId: string = `api.${client.id.replace(/[^A-Za-z0-9_.-]/g, '_')}`.slice(0, 64)): Promise<VerificationResult> {
    const box = this.box(client, boxId);
    const policy = box.pickup;
    this.assertOpen(box);
    await this.assertNotPaused(deviceId);
    if (policy.steps.includes('pinLetter') && entered.pinLetter !== true) {
      throw new DokuboxError('PIN_LETTER_MISSING', 'This box hands out cards only once the PIN letter has arrived; wait for it, or collect the card at the counter.', { field: 'pinLetter' });
    }
    if (!factorsWellFormed(policy, entered)) return this.failVerification(box.id, deviceId, undefined);
    const codeHash = hashCode(this.codeSecret, box.id, entered.code);
    const found = await this.o.store.lookupForVerification(box.id, codeHash, this.decoy.sealed.length);
    const live = found.pickupId !== undefined && found.sealed !== undefined;
    const personal = live ? this.o.cipher.open(found.pickupId, found.sealed as string) : this.o.cipher.open(this.decoy.id, this.decoy.sealed);
    const ok = factorsMatch(
      policy,
      {
        codeHash: live ? found.codeHash : this.decoy.codeHash,
        mobile: personal.mobile,
        dateOfBirth: personal.dateOfBirth,
        renewal: live ? found.renewal : false,
        canHash: live ? found.canHash : this.decoy.codeHash,
      },
      entered,
      { codeHash, canHash: entered.can === undefined ? '' : hashCan(this.codeSecret, box.id, entered.can), equal: hashesEqual },
    );
    if (!ok || !live || found.codeBlocked || found.state !== 'notified' || found.compartment === null) {
      return this.failVerification(box.id, deviceId, live ? found.pickupId : undefined);
    }
    await this.o.attempts?.recordSuccess(deviceId, found.pickupId, this.wallNow());
    return { pickupId: found.pickupId, compartment: found.compartment };
  }

  private async failVerification(boxId: string, deviceId: string, livePickupId: string | undefined): Promise<never> {
    const recorded = await this.o.attempts?.recordFailure(deviceId, livePickupId, this.wallNow());
    const failures = recorded?.failures ?? 0;
    // Alarms are sent, not awaited: the answer must not take longer when a failure blocked a live code.
    const raise = (alarm: Parameters<AlarmSink['raise']>[0]): void => {
      void this.o.alarms?.raise(alarm).catch(() => undefined);
    };
    if (recorded?.paused !== undefined) {
      raise({ kind: 'kiosk_paused', boxId, detail: `${deviceId} paused until ${new Date(recorded.paused.until).toISOString()} (pause ${recorded.paused.level}) after ${DEVICE_FAILURE_LIMIT} failed attempts` });
    }
    if (recorded?.pickupBlocked === true && livePickupId !== undefined) {
      raise({ kind: 'code_blocked', boxId, pickupId: livePickupId, detail: 'code blocked after failed second factors; issue a new code (POST /v1/pickups/{id}/code)' });
    }
    const context: Record<string, string | number> = {
      failures: recorded?.paused !== undefined ? DEVICE_FAILURE_LIMIT : failures,
      remaining: recorded?.paused !== undefined ? 0 : Math.max(0, DEVICE_FAILURE_LIMIT - failures),
      ...(recorded?.paused === undefined ? {} : { pausedUntil: new Date(recorded.paused.until).toISOString() }),
    };
    throw new DokuboxError('VERIFICATION_FAILED', 'The entries do not match an available pickup, or the pickup is no longer available; check the SMS and the entries, or ask at the counter.', { context });
  }

  /**
   * The applicant took the document. `oldDocumentInside`: the box's policy has
   * the old document put into the compartment (Bochum), so the compartment
   * waits for staff to empty it instead of becoming free.
   */
  async markCollected(pickupId: string, actor: string, method: string, options: { oldDocumentInside?: boolean } = {}): Promise<StoredPickup> {
    return this.apply(pickupId, 'collected', 'code_verified_and_taken', actor, {
      fields: { collectedAt: this.nowIso(), verification: method },
      ...(options.oldDocumentInside === true ? { release: 'retrieval' as const } : {}),
    });
  }

  /** A lock board (or controller) of a box answered or fell silent, as the instance driving it saw it. */
  async recordLink(boxId: string, link: string, online: boolean): Promise<void> {
    await this.o.store.setLinkState(boxId, link, online);
  }

  /** A door operation under way (see PickupStore.setDoorOperation); `undefined` ends it. */
  async recordDoorOperation(boxId: string, compartment: string, operation: { purpose: string; pickupId: string | null; actor: string } | undefined): Promise<void> {
    if (operation === undefined) await this.o.store.clearDoorOperation(boxId, compartment);
    else await this.o.store.setDoorOperation(boxId, compartment, JSON.stringify(operation));
  }

  /** The door operations under way at a box, as the instance that began them recorded them. */
  async doorOperations(boxId: string): Promise<Map<string, { purpose: string; pickupId: string | null; actor: string }>> {
    const out = new Map<string, { purpose: string; pickupId: string | null; actor: string }>();
    for (const [compartment, json] of await this.o.store.doorOperations(boxId)) {
      try {
        out.set(compartment, JSON.parse(json) as { purpose: string; pickupId: string | null; actor: string });
      } catch {
        // Not ours to guess: a damaged entry is dropped by the next operation of that compartment.
      }
    }
    return out;
  }

  /** The links of a box as their drivers last recorded them. */
  async linkStates(boxId: string): Promise<Map<string, boolean>> {
    return this.o.store.linkStates(boxId);
  }

  async markReturned(pickupId: string, actor: string): Promise<StoredPickup> {
    return this.apply(pickupId, 'returned', 'staff_retrieved', actor);
  }

  async markFault(pickupId: string, reason: 'door_did_not_open' | 'item_missing_after_loading' | 'compartment_defective', actor: string): Promise<StoredPickup> {
    return this.apply(pickupId, 'fault', reason, actor);
  }

  async resolveFault(pickupId: string, actor: string): Promise<StoredPickup> {
    return this.apply(pickupId, 'waiting', 'fault_resolved', actor);
  }

  /**
   * Staff put the documents of a pickup whose compartment failed while it was being loaded into another
   * compartment: a fault from `reserved` (the door did not open for loading, or the compartment was reported
   * defective before the documents went in). The pickup waits again (fault -> waiting, `fault_resolved`) and
   * gets the next sound compartment at once when the box has one; staff then load it as any other. The failed
   * compartment stays defective until it is repaired. A fault with the documents inside (from `loaded` or
   * `notified`) is refused: those documents are taken out by staff (return, or cancel) and handed over at the
   * counter. Audited as `pickup_reassigned`.
   */
  async reassignAfterFault(client: ClientIdentity, ref: PickupRef, actor: string, reason?: string): Promise<PickupView> {
    const pickupId = (await this.resolve(client, ref)).id;
    const [pickup, history] = await Promise.all([this.o.store.get(pickupId), this.o.store.history(pickupId)]);
    if (pickup === undefined) throw new DokuboxError('NOT_FOUND', 'The pickup does not exist.', { context: { pickupId } });
    const fault = lastFaultOf(history);
    if (pickup.state !== 'fault' || fault === undefined) {
      throw new DokuboxError('ILLEGAL_TRANSITION', `This pickup is '${pickup.state}'. Only a pickup in 'fault' whose compartment failed before the documents went in can be put into another compartment.`, {
        context: { pickupId, state: pickup.state },
      });
    }
    if (fault.from !== 'reserved') {
      throw new DokuboxError(
        'ILLEGAL_TRANSITION',
        `The documents went into compartment ${fault.compartment ?? '?'} before the fault (the pickup was '${String(fault.from)}') and stay there: cancel the pickup, take them out and hand them over at the counter.`,
        { context: { pickupId, state: pickup.state } },
      );
    }
    await this.apply(pickupId, 'waiting', 'fault_resolved', actor);
    await this.audit({ actor, authority: client.authority, action: 'pickup_reassigned', pickupId, boxId: pickup.boxId, ...(fault.compartment === null ? {} : { compartment: fault.compartment }), ...(reason === undefined ? {} : { reason }) });
    return this.view(pickupId);
  }

  /**
   * What the SMS worker needs at send time, or undefined when there is
   * nothing to send: the pickup ended, or its state no longer fits the kind
   * (a `ready` message for a pickup that is not `loaded`), or, for a new
   * `code`, `generation` is no longer the pickup's current code.
   */
  async smsRecipient(pickupId: string, kind: 'ready' | 'reminder' | 'expired' | 'cancelled' | 'code', generation?: number): Promise<SmsRecipientData | undefined> {
    if (kind === 'code') return this.newCodeRecipient(pickupId, generation);
    const pickup = await this.o.store.get(pickupId);
    if (pickup === undefined) return undefined;
    const box = this.o.boxes.get(pickup.boxId);
    const calendar = this.o.calendars.get(pickup.boxId);
    if (box === undefined || calendar === undefined) return undefined;
    const base = { language: pickup.language, location: box.location, hours: box.openingHours, timeZone: box.timeZone };
    if (kind === 'cancelled') {
      const sealed = await this.o.store.farewell(pickupId);
      if (sealed === undefined) return undefined;
      const farewell = this.o.cipher.open(pickupId, sealed);
      return { ...base, mobile: farewell.mobile, deadline: pickup.deadline ?? this.o.clock.now() };
    }
    const expected = kind === 'ready' ? 'loaded' : kind === 'reminder' ? 'notified' : 'expired';
    if (pickup.state !== expected || pickup.pii === undefined) return undefined;
    const personal = this.personalData(pickup);
    // The ready message announces the deadline that markNotified will set: quiet hours keep sending and acceptance on the same day.
    const deadline = kind === 'ready' ? this.deadlineFromNow(box, calendar) : (pickup.deadline ?? this.o.clock.now());
    return { ...base, mobile: personal.mobile, deadline, ...(kind === 'expired' || personal.code === undefined ? {} : { code: personal.code }) };
  }

  /**
   * The new-code SMS: only while the pickup is notified (or loaded: it takes the place of a ready SMS that failed) and
   * `generation` is its current code (an outdated one sends nothing).
   */
  private async newCodeRecipient(pickupId: string, generation: number | undefined): Promise<SmsRecipientData | undefined> {
    const pickup = await this.o.store.get(pickupId);
    // Read after the sealed data, on purpose: generations only grow and REISSUE changes code and generation together,
    // so when the generation read last is still `generation`, the code read before belongs to it.
    const current = await this.o.store.codeGeneration(pickupId);
    const box = pickup === undefined ? undefined : this.o.boxes.get(pickup.boxId);
    const calendar = pickup === undefined ? undefined : this.o.calendars.get(pickup.boxId);
    if (pickup === undefined || box === undefined || calendar === undefined || (pickup.state !== 'notified' && pickup.state !== 'loaded') || pickup.pii === undefined || generation !== current) return undefined;
    const personal = this.personalData(pickup);
    if (personal.code === undefined) return undefined;
    return {
      language: pickup.language,
      location: box.location,
      hours: box.openingHours,
      timeZone: box.timeZone,
      mobile: personal.mobile,
      code: personal.code,
      // Loaded: the deadline that markNotified will set once the gateway accepts this SMS (like the ready SMS's).
      deadline: pickup.state === 'loaded' ? this.deadlineFromNow(box, calendar) : (pickup.deadline ?? this.o.clock.now()),
    };
  }

  /**
   * What should be inside some compartments, by the store: a document where a
   * pickup is loaded, notified or expired, or where an ended pickup's
   * document waits for staff; nothing where a pickup is reserved (not loaded
   * yet) or nobody holds the compartment; `unknown` for defective
   * compartments and faults, where either may be true. `why` names the
   * reason in words (states, never personal data).
   */
  async expectedContents(boxId: string, compartments: string[]): Promise<Map<string, { item: 'present' | 'absent' | 'unknown'; pickupId: string | null; why: string }>> {
    const occupancy = await this.o.store.occupancy(boxId, compartments);
    const out = new Map<string, { item: 'present' | 'absent' | 'unknown'; pickupId: string | null; why: string }>();
    for (const [compartment, o] of occupancy) {
      if (o.defective) {
        out.set(compartment, { item: 'unknown', pickupId: o.holder?.pickupId ?? o.retrievalOf, why: 'compartment defective' });
      } else if (o.holder !== null) {
        const state = o.holder.state;
        const item = state === 'loaded' || state === 'notified' || state === 'expired' ? 'present' : state === 'reserved' ? 'absent' : 'unknown';
        out.set(compartment, { item, pickupId: o.holder.pickupId, why: `pickup ${state ?? 'unknown'}` });
      } else if (o.retrievalOf !== null) {
        out.set(compartment, { item: 'present', pickupId: o.retrievalOf, why: 'ended pickup, document to be taken out by staff' });
      } else {
        out.set(compartment, { item: 'absent', pickupId: null, why: 'compartment free' });
      }
    }
    return out;
  }

  async isDefective(boxId: string, compartment: string): Promise<boolean> {
    return (await this.o.store.defective(boxId)).includes(compartment);
  }

  /**
   * Schedules the reminder SMS `workingDaysBefore` working days before the
   * notified pickup's deadline (same time of day). Returns the time, or
   * undefined when that moment has passed or the pickup is not notified.
   */
  async scheduleReminder(pickupId: string, workingDaysBefore: number): Promise<number | undefined> {
    const pickup = await this.o.store.get(pickupId);
    const calendar = pickup === undefined ? undefined : this.o.calendars.get(pickup.boxId);
    if (pickup?.deadline === undefined || calendar === undefined) return undefined;
    const at = calendar.workingDaysBefore(pickup.deadline, workingDaysBefore);
    if (at <= this.o.clock.now()) return undefined;
    return (await this.o.store.scheduleReminder(pickupId, at)) ? at : undefined;
  }

  /** Pickups whose reminder is due now. */
  async dueReminders(limit = 200): Promise<string[]> {
    return this.o.store.dueReminders(this.o.clock.now(), limit);
  }

  async reminderQueued(pickupId: string): Promise<void> {
    await this.o.store.dropReminder(pickupId);
  }

  async boxOfPickup(pickupId: string): Promise<string | undefined> {
    return (await this.o.store.get(pickupId))?.boxId;
  }

  /** The farewell message (cancelled) has had its outcome: forget the number kept for it. */
  async forgetFarewell(pickupId: string): Promise<void> {
    await this.o.store.dropFarewell(pickupId);
  }

  /**
   * Records an SMS outcome on the pickup (an event for reports and staff);
   * false when the pickup is gone or `guard` held the event back (see
   * PickupStore.annotate: a marker makes the record idempotent).
   */
  async recordSms(pickupId: string, reason: SmsEventReason, fields: Record<string, string> = {}, guard: { once?: string; unless?: string } = {}, kind = ''): Promise<boolean> {
    const now = this.nowIso();
    const counters = smsCounters(reason);
    // An outcome counts on its box's local day: the box first (a gone pickup records nothing, so counts nothing).
    const boxId = counters.length === 0 ? undefined : await this.o.store.boxOf(pickupId);
    const { stats } = boxId === undefined ? {} : this.statsOf(boxId, now, counters);
    return (await this.o.store.annotate(now, pickupId, 'pickup.sms', reason, 'system:sms', fields, guard, kind, stats)) === 'ok';
  }

  /**
   * What an event at `now` adds to the statistics of its box (docs/statistics.md): its local day in the box's
   * time zone (a box no longer configured counts in Europe/Berlin), counted by the store with the event.
   */
  private statsOf(boxId: string, now: string, counters: StatsCount['counters'], durationSeconds?: number): { stats?: StatsCount } {
    if (counters.length === 0) return {};
    const day = localDayOf(this.o.boxes.get(boxId)?.timeZone ?? STATS_FALLBACK_TIME_ZONE, now);
    return { stats: { day, counters, ttlSeconds: STATS_TTL_DAYS * 86_400, ...(durationSeconds === undefined ? {} : { durationSeconds }) } };
  }

  /** Expires every notified pickup whose deadline has passed; returns how many. */
  async expireDue(limit = 200): Promise<number> {
    const due = await this.o.store.dueDeadlines(this.o.clock.now(), limit);
    let expired = 0;
    for (const pickupId of due) {
      try {
        await this.apply(pickupId, 'expired', 'deadline_passed', 'system');
        expired += 1;
      } catch (error) {
        if (!(error instanceof DokuboxError && (error.code === 'ILLEGAL_TRANSITION' || error.code === 'NOT_FOUND'))) throw error;
      }
    }
    return expired;
  }

  async compartmentAction(client: ClientIdentity, boxId: string, compartment: string, action: 'emptied' | 'defective' | 'repaired'): Promise<void> {
    const box = this.box(client, boxId);
    await this.o.store.compartmentAction(this.nowIso(), box.id, compartment, action);
  }

  /** Compartment maintenance caused by the box itself (no client). */
  async markCompartment(boxId: string, compartment: string, action: 'emptied' | 'defective' | 'repaired'): Promise<void> {
    await this.o.store.compartmentAction(this.nowIso(), boxId, compartment, action);
  }

  /**
   * Staff took the document out of a compartment: an expired or faulty
   * pickup is returned to the counter; an ended (cancelled) pickup's
   * compartment becomes free.
   */
  async finishRetrieval(boxId: string, compartment: string, actor: string): Promise<void> {
    const occupant = await this.o.store.occupantOf(boxId, compartment);
    if (occupant === undefined) return;
    if (occupant.kind === 'retrieval') return this.markCompartment(boxId, compartment, 'emptied');
    await this.markReturned(occupant.pickupId, actor);
  }
}
