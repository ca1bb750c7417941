/**
 * The contract between the pickup service and a box's locks, whatever drives
 * them (Kerong CU16 boards behind TCP-RS485 gateways, or a vendor controller
 * with its own REST API). Commands are fire-and-confirm-by-event: `open()`
 * only says the command left; the door's movement arrives later as an event.
 */
import { z } from 'zod';

export type DoorState = 'open' | 'closed' | 'unknown';
export type ItemState = 'present' | 'absent' | 'unknown';

export interface CompartmentSnapshot {
  compartmentId: string;
  door: DoorState;
  item: ItemState;
  /** Disabled compartments refuse `open()` (broken door, kept for staff). */
  enabled: boolean;
}

export type CompartmentEventType = 'door.opened' | 'door.closed' | 'item.present' | 'item.absent';
export type BoardEventType = 'board.online' | 'board.offline';

export interface CompartmentEvent {
  type: CompartmentEventType;
  compartmentId: string;
  /** ISO 8601 time from the injected clock, when the adapter saw the change. */
  at: string;
}

export interface BoardEvent {
  type: BoardEventType;
  /** Gateway id (Kerong) or controller id (smart controller). */
  gateway: string;
  /** Board address on the gateway's bus; absent when the whole gateway/controller is meant. */
  board?: number;
  /** Compartments whose state became unknown (offline) or known again (online). */
  compartmentIds: string[];
  /** Short machine-readable cause, e.g. `no_reply`, `connection_lost`, `first_contact`, `recovered`. */
  reason: string;
  at: string;
}

export type LockerEvent = CompartmentEvent | BoardEvent;

export type LockerEventListener = (event: LockerEvent) => void;

export interface LockerAdapter {
  /** Connects and begins watching the compartments. Resolves once started, not once every board answered. */
  start(): Promise<void>;
  /** Stops polling, closes connections; no events after it resolves. */
  stop(): Promise<void>;
  /**
   * Sends the open command for one compartment. Resolves when the command is
   * on the wire (or accepted by the controller), not when the door moved:
   * wait for `door.opened`. Never retried automatically; rejects with a
   * `DokuboxError` (COMPARTMENT_UNAVAILABLE, DEPENDENCY_UNAVAILABLE, NOT_FOUND).
   */
  open(compartmentId: string): Promise<void>;
  /** The adapter's current view of every compartment, in layout order. */
  snapshot(): CompartmentSnapshot[];
  setEnabled(compartmentId: string, enabled: boolean): Promise<void>;
  on(event: 'event', listener: LockerEventListener): this;
  off(event: 'event', listener: LockerEventListener): this;
}

/** Where a compartment's lock sits; `lock` is numbered as configured by `lockNumberBase`. */
export interface LockAddress {
  gateway: string;
  board: number;
  lock: number;
}

export interface CompartmentLayout {
  id: string;
  locker: LockAddress;
  /** Whether the compartment has an infrared item sensor (default true); without one `item` stays `unknown`. */
  itemSensor?: boolean;
}

export interface GatewayConfig {
  id: string;
  host: string;
  port: number;
}

export const gatewayConfigSchema = z.object({
  id: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});

/**
 * The `locker:` block of a box mapping for Kerong CU16 boards. Disputed
 * protocol points (polarity, numbering, whether unlocks are answered) are
 * configuration, not assumptions.
 */
export const kerongBoxConfigSchema = z.object({
  adapter: z.literal('kerong').optional(),
  gateways: z.array(gatewayConfigSchema).min(1),
  /** The lock number the layout uses for the first lock on a board (wire nibble 0). */
  lockNumberBase: z.union([z.literal(0), z.literal(1)]).default(0),
  /** Value of a lock bit in a state reply that means "door open". */
  lockBitOpenValue: z.union([z.literal(0), z.literal(1)]).default(1),
  /** Value of an infrared bit that means "item present". */
  itemBitPresentValue: z.union([z.literal(0), z.literal(1)]).default(1),
  pollIntervalMs: z.number().int().min(0).default(500),
  replyTimeoutMs: z.number().int().min(1).default(1500),
  /** Lock pulse length sent to each board on connect (0x37); null leaves the board's own setting. */
  unlockPulseMs: z.number().int().min(100).max(25_500).nullable().default(null),
  /** Consecutive unanswered polls before a board is declared offline. */
  offlineAfterMissedPolls: z.number().int().min(1).default(2),
  /** Silence on the line that ends the drain after a timeout. */
  drainMs: z.number().int().min(0).default(100),
  /** Pause after a frame that gets no reply (unlock, pulse time) before the next frame, so the board can act. */
  interFrameGapMs: z.number().int().min(0).default(20),
  reconnectInitialMs: z.number().int().min(1).default(500),
  /** Longest wait between connection attempts to a gateway: one that comes back is in use again within this time. */
  reconnectMaxMs: z.number().int().min(1).max(60_000).default(2000),
  connectTimeoutMs: z.number().int().min(1).default(5000),
});

export type KerongBoxConfig = z.output<typeof kerongBoxConfigSchema>;
export type KerongBoxConfigInput = z.input<typeof kerongBoxConfigSchema>;
