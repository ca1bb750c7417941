import { describe, expect, it } from 'vitest';
import { DokuboxError } from '../../src/core/errors.js';
import { allowedTransitions, effectsOf, isTerminal, PICKUP_STATES, transition, TRANSITIONS, type PickupState, type TransitionReason } from '../../src/core/pickup.js';

const ALL_REASONS = [...new Set(TRANSITIONS.flatMap((t) => t.reasons))] as TransitionReason[];

const LEGAL: [PickupState, PickupState, TransitionReason][] = [
  ['waiting', 'reserved', 'compartment_assigned'],
  ['reserved', 'loaded', 'staff_loaded'],
  ['loaded', 'notified', 'sms_accepted'],
  ['notified', 'collected', 'code_verified_and_taken'],
  ['notified', 'expired', 'deadline_passed'],
  ['loaded', 'expired', 'deadline_passed'],
  ['expired', 'returned', 'staff_retrieved'],
  ['loaded', 'returned', 'staff_retrieved'],
  ['fault', 'returned', 'staff_retrieved'],
  ['fault', 'waiting', 'fault_resolved'],
  ...(['waiting', 'reserved', 'loaded', 'notified', 'expired', 'fault'] as PickupState[]).flatMap((from) =>
    (['cancelled_by_case_system', 'cancelled_by_staff'] as TransitionReason[]).map((r): [PickupState, PickupState, TransitionReason] => [from, 'cancelled', r]),
  ),
  ...(['reserved', 'loaded', 'notified'] as PickupState[]).flatMap((from) =>
    (['door_did_not_open', 'item_missing_after_loading', 'compartment_defective'] as TransitionReason[]).map((r): [PickupState, PickupState, TransitionReason] => [from, 'fault', r]),
  ),
];

describe('pickup state machine', () => {
  it.each(LEGAL)('allows %s -> %s (%s)', (from, to, reason) => {
    expect(transition(from, to, reason)).toBe(to);
  });

  it('rejects every other combination of state, target and reason with ILLEGAL_TRANSITION', () => {
    const legal = new Set(LEGAL.map((t) => t.join('|')));
    let rejected = 0;
    for (const from of PICKUP_STATES) {
      for (const to of PICKUP_STATES) {
        for (const reason of ALL_REASONS) {
          if (legal.has([from, to, reason].join('|'))) continue;
          expect(() => transition(from, to, reason)).toThrowError(DokuboxError);
          try {
            transition(from, to, reason);
          } catch (error) {
            expect((error as DokuboxError).code).toBe('ILLEGAL_TRANSITION');
          }
          rejected += 1;
        }
      }
    }
    expect(rejected).toBe(PICKUP_STATES.length ** 2 * ALL_REASONS.length - LEGAL.length);
  });

  it('lists what staff may do next with a notified pickup', () => {
    expect(allowedTransitions('notified').map((t) => t.to).sort()).toEqual(['cancelled', 'collected', 'expired', 'fault']);
    expect(allowedTransitions('collected')).toEqual([]);
  });

  it('treats collected, returned and cancelled as the end of a pickup', () => {
    expect(PICKUP_STATES.filter(isTerminal)).toEqual(['collected', 'returned', 'cancelled']);
    for (const terminal of ['collected', 'returned', 'cancelled'] as const) {
      for (const to of PICKUP_STATES) for (const reason of ALL_REASONS) expect(() => transition(terminal, to, reason)).toThrow();
    }
  });

  it('deletes personal data exactly when a pickup ends', () => {
    for (const [from, to] of LEGAL) expect(effectsOf(from, to).dropPersonal).toBe(isTerminal(to));
  });

  it('sends a cancelled loaded document to staff retrieval but frees a merely reserved compartment', () => {
    expect(effectsOf('loaded', 'cancelled').release).toBe('retrieval');
    expect(effectsOf('notified', 'cancelled').release).toBe('retrieval');
    expect(effectsOf('reserved', 'cancelled').release).toBe('free');
    expect(effectsOf('waiting', 'cancelled').release).toBe('unwait');
  });

  it('kills the code at expiry and keeps the compartment for staff', () => {
    expect(effectsOf('notified', 'expired')).toMatchObject({ dropCode: true, release: '', dropPersonal: false });
  });

  it('marks the compartment defective on a fault', () => {
    expect(effectsOf('notified', 'fault').markDefective).toBe(true);
  });
});
