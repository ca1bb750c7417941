/**
 * Emulates Kerong CU16 lock boards behind transparent TCP-RS485 gateways:
 * one real TCP server per gateway, the boards of a configured layout behind
 * each, with doors, locks and item sensors, physical actions of people at
 * the box, and the faults a real installation shows. It speaks exactly the
 * bytes of adapters/locker/kerong/codec.ts, so whatever works against it
 * talks to hardware the same way.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import {
  CMD,
  FrameParser,
  LOCKS_PER_BOARD,
  allState,
  boardOf,
  boardState,
  lockOf,
  PULSE_UNIT_MS,
  type BoardStateBits,
  type Frame,
} from '../../adapters/locker/kerong/codec.js';
import type { CompartmentLayout, GatewayConfig } from '../../adapters/locker/types.js';

export interface Cu16EmulatorOptions {
  /** Gateways to serve; port 0 (default) picks a free port. */
  gateways: { id: string; port?: number; host?: string }[];
  compartments: CompartmentLayout[];
  lockNumberBase?: 0 | 1;
  lockBitOpenValue?: 0 | 1;
  itemBitPresentValue?: 0 | 1;
  /** Whether a board answers an unlock with its state (sources disagree); default no reply. */
  unlockReply?: 'none' | 'state';
  /** Every compartment starts with an item (a loaded box). */
  initiallyLoaded?: boolean;
}

interface LockSim {
  compartmentId: string | null;
  doorOpen: boolean;
  itemPresent: boolean;
  jammed: boolean;
  /** A broken sensor reads a fixed value whatever is inside. */
  sensorStuck: 'present' | 'absent' | null;
  unlocks: number;
}

interface BoardSim {
  board: number;
  silent: boolean;
  pulseMs: number;
  locks: LockSim[];
}

interface GatewaySim {
  id: string;
  host: string;
  port: number;
  server: Server | null;
  sockets: Set<Socket>;
  boards: Map<number, BoardSim>;
  garbage: Buffer | null;
  splitGapMs: number | null;
  replyDelayMs: number;
}

/** The physical state of every compartment, to keep across restarts (`state()` / `restore()`). */
export interface Cu16EmulatorState {
  version: 1;
  compartments: Record<string, { door: 'open' | 'closed'; item: boolean; jammed: boolean; sensorStuck: 'present' | 'absent' | null }>;
}

export interface CompartmentView {
  id: string;
  gateway: string;
  board: number;
  door: 'open' | 'closed';
  /** What is really inside. */
  item: 'present' | 'absent';
  /** What the item sensor tells the board (differs from `item` when the sensor is broken). */
  sensorReads: 'present' | 'absent';
  sensorBroken: boolean;
  jammed: boolean;
  boardSilent: boolean;
  gatewayOnline: boolean;
  unlocks: number;
}

export interface EmulatorRequest {
  gateway: string;
  frame: Frame;
}

export interface EmulatorUnlock {
  gateway: string;
  board: number;
  /** Wire lock number 0-15. */
  lock: number;
  compartmentId: string | null;
  /** False when the lock is jammed (or no compartment sits there). */
  opened: boolean;
}

/**
 * Events: `request` (EmulatorRequest, every valid frame received),
 * `unlock` (EmulatorUnlock), `connection` (gateway id), `disconnect` (gateway id),
 * `change` (compartment id: its door, item, lock or sensor changed).
 */
export class Cu16Emulator extends EventEmitter {
  private readonly gateways = new Map<string, GatewaySim>();
  private readonly byId = new Map<string, { gateway: GatewaySim; board: BoardSim; lock: LockSim }>();
  private readonly lockBitOpenValue: 0 | 1;
  private readonly itemBitPresentValue: 0 | 1;
  private readonly unlockReply: 'none' | 'state';
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(options: Cu16EmulatorOptions) {
    super();
    this.lockBitOpenValue = options.lockBitOpenValue ?? 1;
    this.itemBitPresentValue = options.itemBitPresentValue ?? 1;
    this.unlockReply = options.unlockReply ?? 'none';
    const base = options.lockNumberBase ?? 0;
    for (const gw of options.gateways) {
      this.gateways.set(gw.id, {
        id: gw.id,
        host: gw.host ?? '127.0.0.1',
        port: gw.port ?? 0,
        server: null,
        sockets: new Set(),
        boards: new Map(),
        garbage: null,
        splitGapMs: null,
        replyDelayMs: 0,
      });
    }
    for (const c of options.compartments) {
      const gw = this.gateways.get(c.locker.gateway);
      if (!gw) throw new Error(`compartment ${c.id}: gateway ${c.locker.gateway} is not emulated`);
      let board = gw.boards.get(c.locker.board);
      if (!board) {
        board = { board: c.locker.board, silent: false, pulseMs: 500, locks: [] };
        for (let i = 0; i < LOCKS_PER_BOARD; i++) board.locks.push({ compartmentId: null, doorOpen: false, itemPresent: false, jammed: false, sensorStuck: null, unlocks: 0 });
        gw.boards.set(c.locker.board, board);
      }
      const lock = board.locks[c.locker.lock - base];
      if (!lock) throw new Error(`compartment ${c.id}: lock ${c.locker.lock} does not exist with lockNumberBase ${base}`);
      lock.compartmentId = c.id;
      lock.itemPresent = options.initiallyLoaded ?? false;
      this.byId.set(c.id, { gateway: gw, board, lock });
    }
  }

  async start(): Promise<GatewayConfig[]> {
    await Promise.all([...this.gateways.values()].map((gw) => this.listen(gw)));
    return this.addresses();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.gateways.values()].map((gw) => this.close(gw)));
  }

  /** Where each gateway listens: feed these to the adapter's `gateways` config. */
  addresses(): GatewayConfig[] {
    return [...this.gateways.values()].map((gw) => ({ id: gw.id, host: gw.host, port: gw.port }));
  }

  port(gatewayId: string): number {
    return this.gateway(gatewayId).port;
  }

  connectionCount(gatewayId: string): number {
    return this.gateway(gatewayId).sockets.size;
  }

  // --- what a person at the box does ---------------------------------------

  insertItem(compartmentId: string): void {
    const { lock } = this.compartment(compartmentId);
    if (!lock.doorOpen) throw new Error(`compartment ${compartmentId} is closed: open it before inserting`);
    lock.itemPresent = true;
    this.changed(compartmentId);
  }

  takeItem(compartmentId: string): void {
    const { lock } = this.compartment(compartmentId);
    if (!lock.doorOpen) throw new Error(`compartment ${compartmentId} is closed: open it before taking the item`);
    lock.itemPresent = false;
    this.changed(compartmentId);
  }

  closeDoor(compartmentId: string): void {
    this.compartment(compartmentId).lock.doorOpen = false;
    this.changed(compartmentId);
  }

  /** The person walks away: the door stays open until someone closes it (no state change, for readable scenarios). */
  leaveOpen(compartmentId: string): void {
    this.compartment(compartmentId);
  }

  /** The door opens without a command (pried open, latch failure); works on a jammed lock too. */
  forceOpen(compartmentId: string): void {
    this.compartment(compartmentId).lock.doorOpen = true;
    this.changed(compartmentId);
  }

  /** Puts an item in without any door movement (staff preparing a test scenario). */
  setItem(compartmentId: string, present: boolean): void {
    this.compartment(compartmentId).lock.itemPresent = present;
    this.changed(compartmentId);
  }

  // --- what the box reports --------------------------------------------------

  door(compartmentId: string): 'open' | 'closed' {
    return this.compartment(compartmentId).lock.doorOpen ? 'open' : 'closed';
  }

  item(compartmentId: string): 'present' | 'absent' {
    return this.compartment(compartmentId).lock.itemPresent ? 'present' : 'absent';
  }

  unlockCount(compartmentId: string): number {
    return this.compartment(compartmentId).lock.unlocks;
  }

  pulseMs(gatewayId: string, board: number): number | undefined {
    return this.gateway(gatewayId).boards.get(board)?.pulseMs;
  }

  /** Everything the console shows of one compartment: where it is wired, its door, item, lock and sensor. */
  describe(compartmentId: string): CompartmentView {
    const { gateway, board, lock } = this.compartment(compartmentId);
    const reads = lock.sensorStuck ?? (lock.itemPresent ? 'present' : 'absent');
    return {
      id: compartmentId,
      gateway: gateway.id,
      board: board.board,
      door: lock.doorOpen ? 'open' : 'closed',
      item: lock.itemPresent ? 'present' : 'absent',
      sensorReads: reads,
      sensorBroken: lock.sensorStuck !== null,
      jammed: lock.jammed,
      boardSilent: board.silent,
      gatewayOnline: gateway.server !== null,
      unlocks: lock.unlocks,
    };
  }

  /** The gateways with their boards and line faults, for the console. */
  wiring(): { id: string; online: boolean; connections: number; garbage: boolean; splitReplies: boolean; replyDelayMs: number; boards: { board: number; silent: boolean }[] }[] {
    return [...this.gateways.values()].map((gw) => ({
      id: gw.id,
      online: gw.server !== null,
      connections: gw.sockets.size,
      garbage: gw.garbage !== null,
      splitReplies: gw.splitGapMs !== null,
      replyDelayMs: gw.replyDelayMs,
      boards: [...gw.boards.values()].sort((a, b) => a.board - b.board).map((b) => ({ board: b.board, silent: b.silent })),
    }));
  }

  // --- keeping the state across restarts ------------------------------------

  /** Door, lock (jammed) and item sensor of every compartment, e.g. to write to a file. */
  state(): Cu16EmulatorState {
    const compartments: Cu16EmulatorState['compartments'] = {};
    for (const [id, { lock }] of this.byId) {
      compartments[id] = { door: lock.doorOpen ? 'open' : 'closed', item: lock.itemPresent, jammed: lock.jammed, sensorStuck: lock.sensorStuck };
    }
    return { version: 1, compartments };
  }

  /** Puts every compartment named in `state` back as it was; compartments no longer in the layout are ignored. */
  restore(state: Cu16EmulatorState): void {
    if (state.version !== 1) throw new Error(`emulator state version ${String(state.version)} is not supported`);
    for (const [id, saved] of Object.entries(state.compartments)) {
      const entry = this.byId.get(id);
      if (entry === undefined) continue;
      entry.lock.doorOpen = saved.door === 'open';
      entry.lock.itemPresent = saved.item;
      entry.lock.jammed = saved.jammed;
      entry.lock.sensorStuck = saved.sensorStuck;
    }
  }

  // --- faults ----------------------------------------------------------------

  /** A jammed lock acknowledges nothing and opens nothing when pulsed. */
  jamLock(compartmentId: string, jammed = true): void {
    this.compartment(compartmentId).lock.jammed = jammed;
    this.changed(compartmentId);
  }

  /** The item sensor reads a fixed value (null repairs it). */
  breakItemSensor(compartmentId: string, reads: 'present' | 'absent' | null = 'absent'): void {
    this.compartment(compartmentId).lock.sensorStuck = reads;
    this.changed(compartmentId);
  }

  /** The board stops answering anything (power loss, cut RS485 line); false brings it back. */
  silenceBoard(gatewayId: string, board: number, silent = true): void {
    const sim = this.gateway(gatewayId).boards.get(board);
    if (!sim) throw new Error(`board ${board} is not emulated on ${gatewayId}`);
    sim.silent = silent;
    this.emit('wiring', gatewayId);
  }

  /** The gateway drops off the network: open connections are cut and new ones refused until `restoreGateway`. */
  async dropGateway(gatewayId: string): Promise<void> {
    await this.close(this.gateway(gatewayId));
  }

  async restoreGateway(gatewayId: string): Promise<void> {
    await this.listen(this.gateway(gatewayId));
  }

  /** Bytes of line noise written before every reply (null stops it). */
  setGarbage(gatewayId: string, bytes: Uint8Array | null): void {
    this.gateway(gatewayId).garbage = bytes === null ? null : Buffer.from(bytes);
  }

  /** Replies arrive in two TCP segments this far apart (null: in one). */
  setSplitReplies(gatewayId: string, gapMs: number | null): void {
    this.gateway(gatewayId).splitGapMs = gapMs;
  }

  /** Every reply is held back this long (slow board or congested gateway). */
  setReplyDelay(gatewayId: string, ms: number): void {
    this.gateway(gatewayId).replyDelayMs = ms;
  }

  // --- internals -------------------------------------------------------------

  private changed(compartmentId: string): void {
    this.emit('change', compartmentId);
  }

  private gateway(id: string): GatewaySim {
    const gw = this.gateways.get(id);
    if (!gw) throw new Error(`gateway ${id} is not emulated`);
    return gw;
  }

  private compartment(id: string): { gateway: GatewaySim; board: BoardSim; lock: LockSim } {
    const entry = this.byId.get(id);
    if (!entry) throw new Error(`compartment ${id} is not in the emulated layout`);
    return entry;
  }

  private listen(gw: GatewaySim): Promise<void> {
    if (gw.server) return Promise.resolve();
    const server = createServer((socket) => this.accept(gw, socket));
    gw.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(gw.port, gw.host, () => {
        server.off('error', reject);
        const address = server.address();
        if (address && typeof address === 'object') gw.port = address.port;
        resolve();
      });
    });
  }

  private async close(gw: GatewaySim): Promise<void> {
    const server = gw.server;
    gw.server = null;
    for (const socket of gw.sockets) socket.destroy();
    gw.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(gw: GatewaySim, socket: Socket): void {
    socket.setNoDelay(true);
    gw.sockets.add(socket);
    const parser = new FrameParser();
    this.emit('connection', gw.id);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of parser.push(chunk)) this.handle(gw, socket, frame);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      gw.sockets.delete(socket);
      this.emit('disconnect', gw.id);
    });
  }

  private handle(gw: GatewaySim, socket: Socket, frame: Frame): void {
    this.emit('request', { gateway: gw.id, frame } satisfies EmulatorRequest);
    const board = gw.boards.get(boardOf(frame.addr));
    switch (frame.cmd) {
      case CMD.QUERY_BOARD:
        if (board && !board.silent) this.reply(gw, socket, boardState(this.bits(board)));
        return;
      case CMD.UNLOCK:
        if (!board || board.silent) return;
        this.pulse(gw, board, lockOf(frame.addr));
        if (this.unlockReply === 'state') this.reply(gw, socket, boardState(this.bits(board)));
        return;
      case CMD.UNLOCK_ALL:
        if (!board || board.silent) return;
        for (let i = 0; i < LOCKS_PER_BOARD; i++) this.pulse(gw, board, i);
        if (this.unlockReply === 'state') this.reply(gw, socket, boardState(this.bits(board)));
        return;
      case CMD.QUERY_ALL: {
        const states = [...gw.boards.values()].filter((b) => !b.silent).sort((a, b) => a.board - b.board).map((b) => this.bits(b));
        this.reply(gw, socket, allState(states));
        return;
      }
      case CMD.SET_PULSE:
        if (board && !board.silent) board.pulseMs = (frame.data[0] ?? 5) * PULSE_UNIT_MS;
        return;
      case CMD.DELAYED_UNLOCK: {
        if (!board || board.silent) return;
        const lock = lockOf(frame.addr);
        this.later(() => this.pulse(gw, board, lock), (frame.data[0] ?? 0) * 1000);
        return;
      }
      default:
        return;
    }
  }

  private pulse(gw: GatewaySim, board: BoardSim, lockIndex: number): void {
    const lock = board.locks[lockIndex];
    if (!lock) return;
    lock.unlocks++;
    const opened = lock.compartmentId !== null && !lock.jammed;
    // The latch releases and the door's spring pushes it open; it stays open until someone closes it.
    if (opened) lock.doorOpen = true;
    if (opened && lock.compartmentId !== null) this.changed(lock.compartmentId);
    this.emit('unlock', { gateway: gw.id, board: board.board, lock: lockIndex, compartmentId: lock.compartmentId, opened } satisfies EmulatorUnlock);
  }

  private bits(board: BoardSim): BoardStateBits {
    let lockBits = 0;
    let irBits = 0;
    board.locks.forEach((lock, i) => {
      const lockBit = lock.doorOpen ? this.lockBitOpenValue : 1 - this.lockBitOpenValue;
      const present = lock.sensorStuck === null ? lock.itemPresent : lock.sensorStuck === 'present';
      const irBit = present ? this.itemBitPresentValue : 1 - this.itemBitPresentValue;
      lockBits |= lockBit << i;
      irBits |= irBit << i;
    });
    return { board: board.board, lockBits, irBits };
  }

  private reply(gw: GatewaySim, socket: Socket, frame: Buffer): void {
    const bytes = gw.garbage ? Buffer.concat([gw.garbage, frame]) : frame;
    const send = (): void => {
      if (socket.destroyed) return;
      if (gw.splitGapMs === null) {
        socket.write(bytes);
        return;
      }
      const cut = Math.max(1, bytes.length - Math.ceil(frame.length / 2));
      socket.write(bytes.subarray(0, cut));
      this.later(() => {
        if (!socket.destroyed) socket.write(bytes.subarray(cut));
      }, gw.splitGapMs);
    };
    if (gw.replyDelayMs > 0) this.later(send, gw.replyDelayMs);
    else send();
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }
}
