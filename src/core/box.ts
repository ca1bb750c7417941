/**
 * A pickup box: where it stands, when it is open, and its compartments with
 * size, height from the floor, accessibility and the lock that opens each.
 * Loaded from mappings/boxes/*.yaml (src/mappings/boxes.ts).
 */
import type { OpeningHours } from './calendar.js';

export type CompartmentSize = 'S' | 'M' | 'L';

export interface CompartmentDefinition {
  /** Label printed on the door, e.g. `001`. */
  id: string;
  size: CompartmentSize;
  heightCm: number;
  /** Reachable from a wheelchair (low enough, clear of obstacles). */
  accessible: boolean;
  /** Where the lock sits on the vendor's bus (locker adapters). */
  locker?: { gateway: string; board: number; lock: number };
}

export interface BoxDefinition {
  id: string;
  authority: string;
  name: string;
  /** Short address for SMS texts and screens. */
  location: string;
  timeZone: string;
  /** Federal state for public holidays, e.g. `ST` (Sachsen-Anhalt). */
  holidayState: string;
  openingHours: OpeningHours;
  closedOnHolidays: boolean;
  /** Working days a document waits after notification. */
  deadlineWorkingDays: number;
  locker?: Record<string, unknown>;
  compartments: CompartmentDefinition[];
}

/**
 * Allocation order: lower compartments first by height, then by position in
 * the layout. Accessible pickups take the lowest accessible compartments;
 * other pickups use non-accessible ones while any is free.
 */
export function allocationScore(compartment: CompartmentDefinition, index: number): number {
  return compartment.heightCm * 10_000 + index;
}
