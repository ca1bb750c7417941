/**
 * A pickup box built from Kerong CU16 lock boards behind one or more
 * TCP-RS485 gateways (16 boards x 16 locks per bus; Magdeburg's 456
 * compartments need two). Polls every board, turns state changes into
 * `LockerEvent`s, and pulses locks on `open()`. Disputed protocol points
 * (lock-bit polarity, lock numbering base) come from the box's config.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { systemClock, isoAt, type Clock, type Timers } from '../../../src/core/clock.js';
import { DokuboxError } from '../../../src/core/errors.js';
import {
  kerongBoxConfigSchema,
  type BoardEvent,
  type CompartmentLayout,
  type CompartmentSnapshot,
  type DoorState,
  type ItemState,
  type KerongBoxConfig,
  type KerongBoxConfigInput,
  type LockerAdapter,
  type LockerEvent,
} from '../types.js';
import { observe } from '../observation.js';
import { KerongBus } from './bus.js';
import { LOCKS_PER_BOARD, MAX_BOARDS, bit, type BoardStateBits } from './codec.js';

export { KerongBus } from './bus.js';
export type { KerongBusOptions, BusPriority } from './bus.js';

export interface KerongLockerOptions {
  /** The box's `locker:` block; validated and defaulted here. */
  config: KerongBoxConfigInput;
  compartments: CompartmentLayout[];
  logger: Logger;
  clock?: Clock;
  /** Timers of the waits between connection attempts to a gateway (default: real time). */
  timers?: Timers;
  /**
   * Connect every gateway on `start()` (default). With several service
   * instances set it to false and let the gateway lease call
   * `connectGateway()`/`disconnectGateway()`.
   */
  autoConnect?: boolean;
}

interface Slot {
  layout: CompartmentLayout;
  wireLock: number;
  door: DoorState;
  item: ItemState;
  enabled: boolean;
  /** The last state a board reported, kept while the board is offline to reconcile when it returns. */
  lastKnown: { door: DoorState; item: ItemState } | null;
  /** An unlock went out and no answer has shown the door open since (observe()). */
  unlockPending: boolean;
}

interface BoardRuntime {
  gateway: string;
  board: number;
  slots: Slot[];
  status: 'never' | 'online' | 'offline';
  missed: number;
}

interface GatewayRuntime {
  id: string;
  bus: KerongBus;
  boards: BoardRuntime[];
  active: boolean;
  timer: NodeJS.Timeout | null;
  cycle: Promise<void> | null;
  onOnline: () => void;
  onOffline: (reason: string) => void;
  onConnectFailed: () => void;
}

export function parseKerongConfig(raw: unknown): KerongBoxConfig {
  const result = kerongBoxConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new DokuboxError('CONFIG_INVALID', `Kerong locker config is invalid: ${issue?.message ?? 'unknown problem'}. Fix the box mapping's locker block.`, {
      field: `locker.${(issue?.path ?? []).join('.')}`,
    });
  }
  return result.data;
}

export class KerongLocker extends EventEmitter implements LockerAdapter {
  readonly config: KerongBoxConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly slots: Slot[] = [];
  private readonly byId = new Map<string, { slot: Slot; board: BoardRuntime; gateway: GatewayRuntime }>();
  private readonly gateways = new Map<string, GatewayRuntime>();
  private readonly autoConnect: boolean;
  private started = false;

  constructor(options: KerongLockerOptions) {
    super();
    this.config = parseKerongConfig(options.config);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ component: 'kerong-locker' });
    this.autoConnect = options.autoConnect ?? true;
    for (const gw of this.config.gateways) {
      if (this.gateways.has(gw.id)) throw this.configError(`gateway id ${gw.id} appears twice`, 'gateways');
      const bus = new KerongBus({
        gatewayId: gw.id,
        host: gw.host,
        port: gw.port,
        replyTimeoutMs: this.config.replyTimeoutMs,
        drainMs: this.config.drainMs,
        interFrameGapMs: this.config.interFrameGapMs,
        reconnectInitialMs: this.config.reconnectInitialMs,
        reconnectMaxMs: this.config.reconnectMaxMs,
        connectTimeoutMs: this.config.connectTimeoutMs,
        logger: options.logger,
        ...(options.timers === undefined ? {} : { timers: options.timers }),
      });
      const runtime: GatewayRuntime = {
        id: gw.id,
        bus,
        boards: [],
        active: false,
        timer: null,
        cycle: null,
        onOnline: () => this.onGatewayOnline(runtime),
        onOffline: (reason) => this.markGatewayOffline(runtime, reason),
        // A gateway that is down from the start must raise the alarm too, not leave its boards silently unknown.
        onConnectFailed: () => this.markGatewayOffline(runtime, 'unreachable'),
      };
      this.gateways.set(gw.id, runtime);
    }
    const base = this.config.lockNumberBase;
    const used = new Set<string>();
    for (const layout of options.compartments) {
      const { gateway, board, lock } = layout.locker;
      const gw = this.gateways.get(gateway);
      if (!gw) throw this.configError(`compartment ${layout.id} names gateway ${gateway}, which is not configured`, 'compartments');
      const wireLock = lock - base;
      if (!Number.isInteger(board) || board < 0 || board >= MAX_BOARDS) throw this.configError(`compartment ${layout.id}: board ${board} is outside 0-15`, 'compartments');
      if (!Number.isInteger(wireLock) || wireLock < 0 || wireLock >= LOCKS_PER_BOARD) {
        throw this.configError(`compartment ${layout.id}: lock ${lock} is outside ${base}-${base + 15} (lockNumberBase ${base})`, 'compartments');
      }
      if (this.byId.has(layout.id)) throw this.configError(`compartment id ${layout.id} appears twice`, 'compartments');
      const key = `${gateway}/${board}/${wireLock}`;
      if (used.has(key)) throw this.configError(`compartment ${layout.id} shares its lock with another compartment`, 'compartments');
      used.add(key);
      let boardRt = gw.boards.find((b) => b.board === board);
      if (!boardRt) {
        boardRt = { gateway, board, slots: [], status: 'never', missed: 0 };
        gw.boards.push(boardRt);
      }
      const slot: Slot = { layout, wireLock, door: 'unknown', item: 'unknown', enabled: true, lastKnown: null, unlockPending: false };
      boardRt.slots.push(slot);
      this.slots.push(slot);
      this.byId.set(layout.id, { slot, board: boardRt, gateway: gw });
    }
    for (const gw of this.gateways.values()) gw.boards.sort((a, b) => a.board - b.board);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.autoConnect) for (const id of this.gateways.keys()) this.connectGateway(id);
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.gateways.keys()].map((id) => this.disconnectGateway(id, { silent: true })));
  }

  /** Starts talking to one gateway (this instance now holds it). */
  connectGateway(gatewayId: string): void {
    const gw = this.requireGateway(gatewayId);
    if (gw.active) return;
    gw.active = true;
    gw.bus.on('online', gw.onOnline);
    gw.bus.on('offline', gw.onOffline);
    gw.bus.on('connect_failed', gw.onConnectFailed);
    gw.bus.start();
  }

  /**
   * Stops talking to one gateway (lease lost or shutting down). Its
   * compartments become `unknown`; unless silent, `board.offline` with reason
   * `released` tells listeners that another instance may hold it now.
   */
  async disconnectGateway(gatewayId: string, options: { silent?: boolean } = {}): Promise<void> {
    const gw = this.requireGateway(gatewayId);
    if (!gw.active) return;
    gw.active = false;
    if (gw.timer) clearTimeout(gw.timer);
    gw.timer = null;
    gw.bus.off('offline', gw.onOffline);
    gw.bus.off('online', gw.onOnline);
    gw.bus.off('connect_failed', gw.onConnectFailed);
    await gw.bus.stop();
    await gw.cycle?.catch(() => undefined);
    if (options.silent) {
      for (const board of gw.boards) this.markBoardUnknown(board);
    } else {
      this.markGatewayOffline(gw, 'released');
    }
  }

  snapshot(): CompartmentSnapshot[] {
    return this.slots.map((s) => ({ compartmentId: s.layout.id, door: s.door, item: s.item, enabled: s.enabled }));
  }

  async setEnabled(compartmentId: string, enabled: boolean): Promise<void> {
    this.lookup(compartmentId).slot.enabled = enabled;
  }

  async open(compartmentId: string): Promise<void> {
    const { slot, board, gateway } = this.lookup(compartmentId);
    const context = { compartment: compartmentId, gateway: gateway.id, board: board.board };
    if (!slot.enabled) {
      throw new DokuboxError('COMPARTMENT_UNAVAILABLE', `Compartment ${compartmentId} is disabled and was not opened. Enable it after repair or use another compartment.`, { context });
    }
    if (!gateway.active || !gateway.bus.online) {
      throw new DokuboxError('DEPENDENCY_UNAVAILABLE', `Compartment ${compartmentId} was not opened: lock gateway ${gateway.id} is not connected to this instance. Try again shortly; staff should check the gateway if it persists.`, { context });
    }
    if (board.status === 'offline') {
      throw new DokuboxError('DEPENDENCY_UNAVAILABLE', `Compartment ${compartmentId} was not opened: lock board ${board.board} on gateway ${gateway.id} does not answer. Staff should check the board's power and cabling.`, { context });
    }
    // Always pulse, even if the sensor says open: a broken sensor cable must not block a pickup.
    // Pending from here: an unlock lost with the connection may still have reached the board.
    slot.unlockPending = true;
    await gateway.bus.unlock(board.board, slot.wireLock);
    this.log.info({ event: 'locker.unlock', compartment: compartmentId, gateway: gateway.id, board: board.board }, 'unlock sent');
    // Look at the board right away instead of waiting for the poll cycle, so door.opened comes quickly.
    void this.pollBoard(gateway, board);
  }

  /** Runs one poll of every board on every connected gateway; resolves when all answered or timed out. */
  async pollAll(): Promise<void> {
    await Promise.all(
      [...this.gateways.values()].filter((gw) => gw.active && gw.bus.online).map((gw) => Promise.all(gw.boards.map((b) => this.pollBoard(gw, b)))),
    );
  }

  /** The bus of one gateway (for diagnostics and benchmarks). */
  bus(gatewayId: string): KerongBus {
    return this.requireGateway(gatewayId).bus;
  }

  private configError(message: string, field: string): DokuboxError {
    return new DokuboxError('CONFIG_INVALID', `Kerong locker layout: ${message}. Fix the box mapping.`, { field });
  }

  private requireGateway(gatewayId: string): GatewayRuntime {
    const gw = this.gateways.get(gatewayId);
    if (!gw) throw new DokuboxError('NOT_FOUND', `Lock gateway ${gatewayId} is not configured for this box.`, { context: { gateway: gatewayId } });
    return gw;
  }

  private lookup(compartmentId: string): { slot: Slot; board: BoardRuntime; gateway: GatewayRuntime } {
    const entry = this.byId.get(compartmentId);
    if (!entry) throw new DokuboxError('NOT_FOUND', `Compartment ${compartmentId} is not part of this box's layout. Check the compartment id.`, { context: { compartment: compartmentId } });
    return entry;
  }

  private onGatewayOnline(gw: GatewayRuntime): void {
    if (!gw.active) return;
    const pulse = this.config.unlockPulseMs;
    if (pulse !== null) {
      for (const board of gw.boards) {
        gw.bus.setPulse(board.board, pulse).catch((error: unknown) => this.log.warn({ event: 'locker.pulse_config_failed', gateway: gw.id, board: board.board, err: errMessage(error) }, 'could not set pulse time'));
      }
    }
    // Poll at once after a (re)connect rather than waiting out the interval: the state is unknown until then.
    if (gw.timer) clearTimeout(gw.timer);
    gw.timer = null;
    this.scheduleCycle(gw, 0);
  }

  private scheduleCycle(gw: GatewayRuntime, delayMs: number): void {
    if (gw.timer || gw.cycle || !gw.active) return;
    gw.timer = setTimeout(() => {
      gw.timer = null;
      if (!gw.active || !gw.bus.online) return;
      gw.cycle = this.runCycle(gw).finally(() => {
        gw.cycle = null;
        if (gw.bus.online) this.scheduleCycle(gw, this.config.pollIntervalMs);
      });
    }, delayMs);
  }

  private async runCycle(gw: GatewayRuntime): Promise<void> {
    for (const board of gw.boards) {
      if (!gw.active || !gw.bus.online) return;
      await this.pollBoard(gw, board);
    }
    this.emit('cycle', gw.id);
  }

  private async pollBoard(gw: GatewayRuntime, board: BoardRuntime): Promise<void> {
    let bits: BoardStateBits;
    try {
      bits = await gw.bus.query(board.board);
    } catch (error) {
      // A lost connection is handled once for the whole gateway; count only silence of a reachable board.
      if (!gw.active || !gw.bus.online) return;
      board.missed++;
      this.log.debug({ event: 'locker.board.no_reply', gateway: gw.id, board: board.board, missed: board.missed, err: errMessage(error) }, 'board did not answer');
      if (board.status !== 'offline' && board.missed >= this.config.offlineAfterMissedPolls) this.markBoardOffline(board, 'no_reply');
      return;
    }
    if (!gw.active) return;
    this.applyState(board, bits);
  }

  private applyState(board: BoardRuntime, bits: BoardStateBits): void {
    const at = isoAt(this.clock);
    const previous = board.status;
    board.missed = 0;
    board.status = 'online';
    const events: LockerEvent[] = [];
    for (const slot of board.slots) {
      const door: DoorState = bit(bits.lockBits, slot.wireLock) === this.config.lockBitOpenValue ? 'open' : 'closed';
      const item: ItemState = slot.layout.itemSensor === false ? 'unknown' : bit(bits.irBits, slot.wireLock) === this.config.itemBitPresentValue ? 'present' : 'absent';
      // After an outage compare with what the board last said, so changes during the outage still become events.
      const before = previous === 'online' ? { door: slot.door, item: slot.item } : slot.lastKnown;
      slot.door = door;
      slot.item = item;
      slot.lastKnown = { door, item };
      events.push(...observe(slot, slot.layout.id, before, { door, item }, at));
    }
    if (previous !== 'online') {
      // First contact is routine (one line per board at start-up would drown everything else); a recovery is news.
      this.log[previous === 'never' ? 'debug' : 'info']({ event: 'locker.board.online', gateway: board.gateway, board: board.board }, 'lock board answers');
      this.publish(this.boardEvent('board.online', board, previous === 'never' ? 'first_contact' : 'recovered', at));
    }
    for (const event of events) this.publish(event);
  }

  private markGatewayOffline(gw: GatewayRuntime, reason: string): void {
    for (const board of gw.boards) {
      if (board.status !== 'offline') this.markBoardOffline(board, reason);
    }
  }

  private markBoardUnknown(board: BoardRuntime): void {
    board.status = board.status === 'never' ? 'never' : 'offline';
    board.missed = 0;
    for (const slot of board.slots) {
      slot.door = 'unknown';
      slot.item = 'unknown';
    }
  }

  private markBoardOffline(board: BoardRuntime, reason: string): void {
    this.markBoardUnknown(board);
    board.status = 'offline';
    this.log.warn({ event: 'locker.board.offline', gateway: board.gateway, board: board.board, reason }, 'lock board offline: its compartments are unknown');
    this.publish(this.boardEvent('board.offline', board, reason, isoAt(this.clock)));
  }

  private boardEvent(type: BoardEvent['type'], board: BoardRuntime, reason: string, at: string): BoardEvent {
    return { type, gateway: board.gateway, board: board.board, compartmentIds: board.slots.map((s) => s.layout.id), reason, at };
  }

  private publish(event: LockerEvent): void {
    try {
      this.emit('event', event);
    } catch (error) {
      // A failing listener must not stop the poll loop for the whole box.
      this.log.error({ event: 'locker.listener_failed', type: event.type, err: errMessage(error) }, 'locker event listener threw');
    }
  }
}

function errMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
