/**
 * A box as the office sees it: each compartment in one of six states, read
 * from the store (never from personal data).
 */
import type { BoxDefinition } from '../../core/box.js';
import type { CompartmentState, PickupStore } from '../../store/pickup-store.js';

export const COMPARTMENT_VIEWS = ['free', 'reserved', 'loaded', 'toEmpty', 'defective', 'fault'] as const;
export type CompartmentView = (typeof COMPARTMENT_VIEWS)[number];

/** free; reserved for a pickup not loaded yet; loaded (or notified); to be emptied by staff (expired, ended); defective; a pickup in fault. */
export function viewOf(state: CompartmentState, pickupState: string | null): CompartmentView {
  if (state === 'defective') return 'defective';
  if (state === 'free') return 'free';
  if (state === 'reserved') return 'reserved';
  if (state === 'retrieval') return 'toEmpty';
  if (pickupState === 'fault') return 'fault';
  if (pickupState === 'expired') return 'toEmpty';
  return 'loaded';
}

export interface CompartmentRow {
  id: string;
  view: CompartmentView;
}

export async function compartmentViews(store: PickupStore, box: BoxDefinition): Promise<CompartmentRow[]> {
  const states = await store.listCompartments(box);
  const pickupStates = await store.pickupStates(states.map((s) => s.pickupId ?? ''));
  return states.map((s, i) => ({ id: s.id, view: viewOf(s.state, pickupStates[i] ?? null) }));
}
