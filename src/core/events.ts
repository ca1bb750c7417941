/**
 * Every state change is an event with a time. Events carry ids and states,
 * never personal data; they are the audit trail and the source for outbound
 * reports, SMS and screens.
 */
import type { PickupState, TransitionReason } from './pickup.js';

/** Things that happen to a pickup's messages without changing its state. */
export type SmsEventReason = 'sms_accepted_by_gateway' | 'sms_failed' | 'sms_delivered' | 'sms_undeliverable' | 'reminder_sent' | 'code_sent';

/** Things that happen to a pickup's code without changing its state (not reported to the case system: src/case-system/reports.ts). */
export type CodeEventReason = 'code_reissued';

/**
 * Actions of staff and admins that the audit trail records (src/store/audit.ts). On a pickup whose history
 * has no other event of the action, also a `pickup.audit` event with the action as its reason (no personal
 * data, never reported to the case system).
 */
export const AUDIT_ACTIONS = [
  'personal_data_revealed',
  'pickup_cancelled',
  'code_issued',
  'compartment_opened',
  'compartment_defective',
  'compartment_repaired',
  'case_report_replayed',
  'deadline_extended',
  'alarm_acknowledged',
  'pickup_reassigned',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type Actor = `${'case-system' | 'kiosk' | 'staff' | 'locker' | 'system' | 'admin' | 'clerk'}:${string}` | 'system';

export interface PickupEvent {
  /** Unique per event; derived ids make downstream deliveries idempotent. */
  eventId: string;
  type: 'pickup.created' | 'pickup.transitioned' | 'pickup.sms' | 'pickup.code' | 'pickup.audit' | 'compartment.changed';
  pickupId: string;
  authority: string;
  boxId: string;
  /** The case system's message id of the notice that created the pickup. */
  messageId: string;
  from: PickupState | null;
  to: PickupState;
  reason: TransitionReason | 'notice_received' | SmsEventReason | CodeEventReason | AuditAction;
  compartment: string | null;
  actor: Actor;
  /** ISO 8601 time from the injected clock. */
  at: string;
  /** Sequence number of this event within its pickup (1, 2, ...). */
  seq: number;
  /** `pickup.code` events only: the code generation the event created (1 for the first new code, ...). */
  codeGeneration?: number;
  /** `pickup.sms` events (written since the story view): which SMS the event is about (ready, reminder, code, expired, cancelled). */
  smsKind?: string;
}
