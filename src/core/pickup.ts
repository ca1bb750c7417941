/**
 * The pickup state machine. Every change of state goes through `transition`,
 * which either returns the next state or throws ILLEGAL_TRANSITION; there is
 * no other way to change a pickup's state. See docs/state-machine.md.
 */
import { DokuboxError } from './errors.js';

export const PICKUP_STATES = ['waiting', 'reserved', 'loaded', 'notified', 'collected', 'expired', 'returned', 'cancelled', 'fault'] as const;
export type PickupState = (typeof PICKUP_STATES)[number];

/** States in which the pickup has ended; personal data is deleted on entering them. */
export const TERMINAL_STATES: ReadonlySet<PickupState> = new Set(['collected', 'returned', 'cancelled']);

export type TransitionReason =
  | 'compartment_assigned'
  | 'staff_loaded'
  | 'sms_accepted'
  | 'code_verified_and_taken'
  | 'deadline_passed'
  | 'staff_retrieved'
  | 'cancelled_by_case_system'
  | 'cancelled_by_staff'
  | 'door_did_not_open'
  | 'item_missing_after_loading'
  | 'compartment_defective'
  | 'fault_resolved';

interface Rule {
  from: readonly PickupState[];
  to: PickupState;
  reasons: readonly TransitionReason[];
}

/** The complete table of legal transitions. Anything not listed is illegal. */
export const TRANSITIONS: readonly Rule[] = [
  { from: ['waiting'], to: 'reserved', reasons: ['compartment_assigned'] },
  { from: ['reserved'], to: 'loaded', reasons: ['staff_loaded'] },
  { from: ['loaded'], to: 'notified', reasons: ['sms_accepted'] },
  { from: ['notified'], to: 'collected', reasons: ['code_verified_and_taken'] },
  { from: ['notified', 'loaded'], to: 'expired', reasons: ['deadline_passed'] },
  { from: ['expired', 'loaded', 'fault'], to: 'returned', reasons: ['staff_retrieved'] },
  {
    from: ['waiting', 'reserved', 'loaded', 'notified', 'expired', 'fault'],
    to: 'cancelled',
    reasons: ['cancelled_by_case_system', 'cancelled_by_staff'],
  },
  { from: ['reserved', 'loaded', 'notified'], to: 'fault', reasons: ['door_did_not_open', 'item_missing_after_loading', 'compartment_defective'] },
  // The document never went in (or staff took it out): queue again for a sound compartment.
  { from: ['fault'], to: 'waiting', reasons: ['fault_resolved'] },
];

export function allowedTransitions(from: PickupState): { to: PickupState; reasons: readonly TransitionReason[] }[] {
  return TRANSITIONS.filter((rule) => rule.from.includes(from)).map((rule) => ({ to: rule.to, reasons: rule.reasons }));
}

export function canTransition(from: PickupState, to: PickupState, reason: TransitionReason): boolean {
  return TRANSITIONS.some((rule) => rule.to === to && rule.from.includes(from) && rule.reasons.includes(reason));
}

/** Returns `to` when the transition is legal, otherwise throws ILLEGAL_TRANSITION. */
export function transition(from: PickupState, to: PickupState, reason: TransitionReason): PickupState {
  if (!canTransition(from, to, reason)) {
    throw new DokuboxError('ILLEGAL_TRANSITION', `A pickup in state '${from}' cannot become '${to}' (${reason}).`, {
      context: { from, to, reason },
    });
  }
  return to;
}

/**
 * The last transition into `fault` of a pickup's events (its history or story, in seq order), or undefined.
 * A fault whose `from` is `reserved` came before the documents went in: they may go into another compartment.
 */
export function lastFaultOf<E extends { type: string; to: PickupState }>(events: readonly E[]): E | undefined {
  return events.filter((e) => e.type === 'pickup.transitioned' && e.to === 'fault').at(-1);
}

export function isTerminal(state: PickupState): boolean {
  return TERMINAL_STATES.has(state);
}


/** What a transition does besides changing the state; executed atomically by the store. */
export interface TransitionEffects {
  /** free: back to the free pool; retrieval: staff must empty it first; detach: forget it (it stays defective); unwait: leave the waiting list. */
  release: '' | 'free' | 'retrieval' | 'detach' | 'unwait';
  dropCode: boolean;
  /** Delete names, date of birth, phone, serial numbers: the pickup has ended. */
  dropPersonal: boolean;
  markDefective: boolean;
  clearDeadline: boolean;
}

const DOCUMENT_INSIDE: ReadonlySet<PickupState> = new Set(['loaded', 'notified', 'expired', 'fault']);

export function effectsOf(from: PickupState, to: PickupState): TransitionEffects {
  const none: TransitionEffects = { release: '', dropCode: false, dropPersonal: false, markDefective: false, clearDeadline: false };
  switch (to) {
    case 'collected':
    case 'returned':
      return { ...none, release: 'free', dropCode: true, dropPersonal: true, clearDeadline: true };
    case 'cancelled':
      return {
        ...none,
        release: from === 'waiting' ? 'unwait' : DOCUMENT_INSIDE.has(from) ? 'retrieval' : 'free',
        dropCode: true,
        dropPersonal: true,
        clearDeadline: true,
      };
    case 'expired':
      return { ...none, dropCode: true, clearDeadline: true };
    case 'fault':
      return { ...none, markDefective: true, dropCode: true, clearDeadline: true };
    case 'waiting':
      return { ...none, release: 'detach' };
    default:
      return none;
  }
}
