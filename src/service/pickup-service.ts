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
import type { Clock } from '../core/clock.js';
import { hashCan, hashCode, generateCode, isWellFormedCode, verifyCodeAndBirthDate } from '../core/code.js';
import type { DocumentTypeCatalog } from '../core/documents.js';
import type { SmsEventReason } from '../core/events.js';
import { DokuboxError } from '../core/errors.js';
import { fingerprintContent, parseNotice } from '../core/notice.js';
import { effectsOf, transition as checkTransition, type PickupState, type TransitionReason } from '../core/pickup.js';
import { keyedHash, stableStringify, type PersonalData, type PiiCipher } from '../security/pii-cipher.js';
import type { PickupStore, StoredPickup } from '../store/pickup-store.js';
import type { ClientIdentity, PickupPort, PickupRef, PickupView, SubmitResult } from './types.js';

export interface PickupServiceOptions {
  store: PickupStore;
  boxes: ReadonlyMap<string, BoxDefinition>;
  calendars: ReadonlyMap<string, BoxCalendar>;
  catalog: DocumentTypeCatalog;
  cipher: PiiCipher;
  /** Base64 secret for code hashes, fingerprints and lookup indexes. */
  secret: string;
  clock: Clock;
  idempotencyTtlDays: number;
  auditRetentionDays: number;
  newId?: () => string;
  randomCode?: () => string;
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

const MAX_CAS_RETRIES = 5;

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
    return new Date(this.o.clock.now()).toISOString();
  }

  private get codeSecret(): Buffer {
    return Buffer.from(this.o.secret, 'base64');
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
    const pickupId = this.newId();
    const now = this.nowIso();
    const personal: PersonalData = {
      familyName: notice.person.familyName,
      givenNames: notice.person.givenNames,
      dateOfBirth: notice.person.dateOfBirth,
      mobile: notice.mobile,
      serialNumbers: notice.documents.map((d) => d.serialNumber),
    };
    const result = await this.o.store.ingest({
      now,
      messageKey: `${notice.authority}:${notice.messageId}`,
      fingerprint: keyedHash(this.o.secret, 'notice', stableStringify(fingerprintContent(notice))),
      pickupId,
      boxId: box.id,
      accessible: notice.accessible,
      msgTtlSeconds: this.o.idempotencyTtlDays * 86_400,
      serialHashes: notice.documents.map((d) => this.serialHash(d.serialNumber)),
      actor: `case-system:${client.id}`,
      fields: {
        id: pickupId,
        authority: notice.authority,
        boxId: box.id,
        messageId: notice.messageId,
        caseNumber: notice.caseNumber,
        accessible: notice.accessible ? '1' : '0',
        renewal: notice.renewal ? '1' : '0',
        // The old card's CAN only as a keyed hash, never in clear (not even sealed); dropped with the personal data.
        ...(notice.oldCardCan === undefined ? {} : { canHash: hashCan(this.codeSecret, box.id, notice.oldCardCan) }),
        language: notice.language,
        documentTypes: JSON.stringify(notice.documents.map((d) => d.type)),
        pii: this.o.cipher.seal(pickupId, personal),
        // Comma-separated: one document's index fits Redis's compact hash encoding (values up to 64 bytes).
        serialIndex: notice.documents.map((d) => this.serialHash(d.serialNumber)).join(','),
        createdAt: now,
        updatedAt: now,
      },
    });
    if (result.outcome === 'conflict') {
      throw new DokuboxError('IDEMPOTENCY_CONFLICT', `Message id '${notice.messageId}' was already used for a different notice; send a new message id for new content.`, {
        field: 'messageId',
        context: { pickupId: result.pickupId },
      });
    }
    const id = result.outcome === 'existing' ? result.pickupId : pickupId;
    return { outcome: result.outcome === 'existing' ? 'duplicate' : 'created', pickup: await this.view(id) };
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
      history: history.map((e) => ({ seq: e.seq, from: e.from, to: e.to, reason: e.reason, actor: e.actor, at: e.at })),
    };
  }

  async cancelPickup(client: ClientIdentity, ref: PickupRef, reason: 'cancelled_by_case_system' | 'cancelled_by_staff'): Promise<PickupView> {
    const pickup = await this.resolve(client, ref);
    await this.apply(pickup.id, 'cancelled', reason, `${client.role === 'case-system' ? 'case-system' : 'staff'}:${client.id}`);
    return this.view(pickup.id);
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
    extra: { fields?: Record<string, string>; deadline?: number; codeHash?: string } = {},
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
      const params = {
        now: this.nowIso(),
        pickupId,
        expected: pickup.state,
        to,
        reason,
        actor,
        release: effects.release,
        dropCode: effects.dropCode,
        dropPersonal: effects.dropPersonal,
        markDefective: effects.markDefective,
        retentionSeconds: effects.dropPersonal ? this.o.auditRetentionDays * 86_400 : 0,
        ...(extra.codeHash === undefined ? {} : { codeHash: extra.codeHash }),
        ...(extra.deadline !== undefined ? { deadline: extra.deadline } : effects.clearDeadline ? { deadline: null } : {}),
        ...(extra.fields === undefined ? {} : { fields: extra.fields }),
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

  /** The gateway accepted the SMS: the deadline starts now. */
  async markNotified(pickupId: string, actor = 'system'): Promise<StoredPickup> {
    const pickup = await this.o.store.get(pickupId);
    if (pickup === undefined) throw new DokuboxError('NOT_FOUND', 'The pickup does not exist.', { context: { pickupId } });
    const box = this.o.boxes.get(pickup.boxId);
    const calendar = this.o.calendars.get(pickup.boxId);
    if (box === undefined || calendar === undefined) throw new DokuboxError('UNKNOWN_BOX', `Box '${pickup.boxId}' is no longer configured.`);
    const now = this.o.clock.now();
    return this.apply(pickupId, 'notified', 'sms_accepted', actor, {
      deadline: calendar.deadline(now, box.deadlineWorkingDays),
      fields: { notifiedAt: new Date(now).toISOString() },
    });
  }

  /** Personal data of an open pickup, for the SMS worker and verification only. */
  personalData(pickup: StoredPickup): PersonalData {
    if (pickup.pii === undefined) throw new DokuboxError('NOT_FOUND', 'The personal data of this pickup was deleted (the pickup has ended).', { context: { pickupId: pickup.id } });
    return this.o.cipher.open(pickup.id, pickup.pii);
  }

  /**
   * Checks a code and date of birth at a box. Fails with one message for
   * every reason, so a caller learns nothing about which part was wrong; and
   * does the same work whether the code is live or not, so the answer time
   * does not tell either: one Redis round trip with the same commands, one
   * decryption of a sealed record of the usual size with the same key (a
   * decoy when no pickup matches), one constant-time comparison of code hash
   * and date of birth.
   */
  async verify(client: ClientIdentity, boxId: string, entered: { code: string; dateOfBirth: string }): Promise<VerificationResult> {
    const box = this.box(client, boxId);
    const failure = new DokuboxError('VERIFICATION_FAILED', 'Code or date of birth is not correct, or the pickup is no longer available; check the SMS or ask at the counter.');
    if (!isWellFormedCode(entered.code)) throw failure;
    const codeHash = hashCode(this.codeSecret, box.id, entered.code);
    const found = await this.o.store.lookupForVerification(box.id, codeHash, this.decoy.sealed.length);
    const live = found.pickupId !== undefined && found.sealed !== undefined;
    const personal = live ? this.o.cipher.open(found.pickupId, found.sealed as string) : this.o.cipher.open(this.decoy.id, this.decoy.sealed);
    const ok = verifyCodeAndBirthDate(
      { secret: this.codeSecret, boxId: box.id, storedCodeHash: live ? found.codeHash : this.decoy.codeHash, storedDateOfBirth: personal.dateOfBirth },
      entered,
    );
    if (!ok || !live || found.state !== 'notified' || found.compartment === null) throw failure;
    return { pickupId: found.pickupId, compartment: found.compartment };
  }

  async markCollected(pickupId: string, actor: string, method: string): Promise<StoredPickup> {
    return this.apply(pickupId, 'collected', 'code_verified_and_taken', actor, { fields: { collectedAt: this.nowIso(), verification: method } });
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
   * What the SMS worker needs at send time, or undefined when there is
   * nothing to send: the pickup ended, or its state no longer fits the kind
   * (a `ready` message for a pickup that is not `loaded`).
   */
  async smsRecipient(pickupId: string, kind: 'ready' | 'reminder' | 'expired' | 'cancelled'): Promise<SmsRecipientData | undefined> {
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
    const deadline = kind === 'ready' ? calendar.deadline(this.o.clock.now(), box.deadlineWorkingDays) : (pickup.deadline ?? this.o.clock.now());
    return { ...base, mobile: personal.mobile, deadline, ...(kind === 'expired' || personal.code === undefined ? {} : { code: personal.code }) };
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
  async recordSms(pickupId: string, reason: SmsEventReason, fields: Record<string, string> = {}, guard: { once?: string; unless?: string } = {}): Promise<boolean> {
    return (await this.o.store.annotate(this.nowIso(), pickupId, 'pickup.sms', reason, 'system:sms', fields, guard)) === 'ok';
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
