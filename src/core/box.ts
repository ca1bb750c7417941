/**
 * A pickup box: where it stands, when it is open, and its compartments with
 * size, height from the floor, accessibility and the lock that opens each.
 * Loaded from mappings/boxes/*.yaml (src/mappings/boxes.ts).
 */
import type { OpeningHours } from './calendar.js';
import type { PickupPolicy } from './pickup-policy.js';

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
  /** How applicants prove who they are and what they do with the old document (core/pickup-policy.ts). */
  pickup: PickupPolicy;
  /**
   * The box front as a grid: compartments in file order fill it column by
   * column (left to right), each column from the bottom up. Absent: a
   * roughly square grid in the same order.
   */
  front?: { columns: number; rows: number };
  /** Seconds without a touch after which the kiosk returns to its first screen and forgets every entry. */
  kioskIdleSeconds: number;
  compartments: CompartmentDefinition[];
}

/** Where a compartment sits on the box front: column from the left, row from the bottom (both 0-based). */
export function frontPosition(box: Pick<BoxDefinition, 'front' | 'compartments'>, compartmentId: string): { column: number; row: number; columns: number; rows: number } | undefined {
  const index = box.compartments.findIndex((c) => c.id === compartmentId);
  if (index < 0) return undefined;
  const { columns, rows } = frontGrid(box);
  return { column: Math.floor(index / rows), row: index % rows, columns, rows };
}

export function frontGrid(box: Pick<BoxDefinition, 'front' | 'compartments'>): { columns: number; rows: number } {
  if (box.front !== undefined) return box.front;
  const rows = Math.max(1, Math.ceil(Math.sqrt(box.compartments.length)));
  return { columns: Math.ceil(box.compartments.length / rows), rows };
}

/**
 * Allocation order: lower compartments first by height, then by position in
 * the layout. Accessible pickups take the lowest accessible compartments;
 * other pickups use non-accessible ones while any is free.
 */
export function allocationScore(compartment: CompartmentDefinition, index: number): number {
  return compartment.heightCm * 10_000 + index;
}
