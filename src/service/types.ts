/**
 * Contracts between the pickup service and its callers (REST routes, the SOAP
 * endpoint, the kiosk, the locker lifecycle) and its listeners (status
 * reports, SMS). Inbound adapters call a `PickupPort`; outbound ones subscribe
 * to `PickupEvent`s through an `EventSubscriber`.
 */
import type { PickupEvent } from '../core/events.js';
import type { PickupState } from '../core/pickup.js';

export const ROLES = ['case-system', 'kiosk', 'locker', 'staff', 'admin', 'monitoring'] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated machine client. Every call is scoped to its authority. */
export interface ClientIdentity {
  id: string;
  role: Role;
  authority: string;
}

/** What callers may see of a pickup: no names, no date of birth, no phone, no code. */
export interface PickupView {
  id: string;
  messageId: string;
  authority: string;
  caseNumber: string;
  boxId: string;
  state: PickupState;
  compartment: string | null;
  documentTypes: string[];
  language: string;
  accessible: boolean;
  createdAt: string;
  updatedAt: string;
  notifiedAt: string | null;
  deadline: string | null;
  history: { seq: number; from: PickupState | null; to: PickupState; reason: string; actor: string; at: string }[];
}

export interface SubmitResult {
  /** `created` for a new notice, `duplicate` when the same message id and content came before. */
  outcome: 'created' | 'duplicate';
  pickup: PickupView;
}

/** Reference to a pickup from the case system's side. */
export type PickupRef = { pickupId: string } | { messageId: string };

export interface PickupPort {
  /** Validates (see core/notice.ts) and ingests a notice idempotently. */
  submitNotice(client: ClientIdentity, input: unknown): Promise<SubmitResult>;
  getPickup(client: ClientIdentity, ref: PickupRef): Promise<PickupView>;
  cancelPickup(client: ClientIdentity, ref: PickupRef, reason: 'cancelled_by_case_system' | 'cancelled_by_staff'): Promise<PickupView>;
}

export type EventHandler = (event: PickupEvent) => Promise<void>;

export interface EventSubscriber {
  /**
   * Registers a durable handler under a name: it sees every event from now on
   * at least once, in order per pickup; a throwing handler gets the event again.
   */
  subscribe(name: string, handler: EventHandler): void;
  /**
   * The same for a handler that takes the events of one read at once (in stream order): the batch is
   * acknowledged when the handler returns and delivered again, whole, when it throws; the handler must
   * be idempotent per event.
   */
  subscribeBatch?(name: string, handler: BatchEventHandler): void;
}

export type BatchEventHandler = (events: PickupEvent[]) => Promise<void>;

/**
 * Attempt limits of pickup verification (src/kiosk/attempts.ts): per device
 * (a kiosk, or an API client) and per pickup (failed second factors for a
 * live code block that code).
 */
export interface AttemptGuard {
  status(deviceId: string, now: number): Promise<{ paused: false; failures: number } | { paused: true; until: number; level: number }>;
  recordFailure(deviceId: string, pickupId: string | undefined, now: number): Promise<{ paused: { until: number; level: number } | undefined; pickupBlocked: boolean; failures: number }>;
  recordSuccess(deviceId: string, pickupId: string, now: number): Promise<void>;
}

/** What a clerk searches a pickup by (exactly one). */
export type PickupSearch = { caseNumber: string } | { documentNumber: string };

/** One event of a pickup's timeline (its history, with the event type). */
export interface StoryEvent {
  seq: number;
  type: PickupEvent['type'];
  from: PickupState | null;
  to: PickupState;
  reason: string;
  actor: string;
  at: string;
  compartment: string | null;
}

/** A pickup's story for staff: timeline, SMS, reports to the case system, and the personal data masked. */
export interface PickupStory {
  pickup: Omit<PickupView, 'history'>;
  timeline: StoryEvent[];
  sms: { seq: number; kind: 'ready' | 'reminder' | 'code' | 'expired' | 'cancelled' | 'unknown'; status: 'accepted' | 'sent' | 'delivered' | 'undeliverable' | 'failed'; at: string; detail?: string }[];
  reports: {
    seq: number;
    status: string;
    reason: string;
    occurredAt: string;
    /** delivered: the case system acknowledged it; dead: parked after failures (see error); pending: on its way, or waiting behind a dead one. */
    delivery: 'delivered' | 'dead' | 'pending';
    error?: string;
  }[];
  /** Masked; null once the pickup ended (the personal data is deleted then). */
  person: { name: string; mobile: string; dateOfBirth: string } | null;
}

/** The personal data of an open pickup, revealed (audited). */
export interface RevealedPerson {
  pickupId: string;
  familyName: string;
  givenNames: string;
  dateOfBirth: string;
  mobile: string;
}
