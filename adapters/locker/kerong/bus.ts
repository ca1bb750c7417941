/**
 * One TCP connection to a transparent TCP-RS485 gateway and the CU16 boards
 * behind it. RS485 is half duplex with no addressing of replies beyond the
 * frame itself, so the bus runs one transaction at a time: write a frame,
 * wait for the matching reply or a timeout, and after a timeout drain the
 * line until it is silent before the next frame. Unlocks jump ahead of
 * queued polls and are never retried: a retry could open a door twice.
 */
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { systemClock, type TimerHandle, type Timers } from '../../../src/core/clock.js';
import { DokuboxError } from '../../../src/core/errors.js';
import { CMD, FrameParser, boardOf, decodeBoardState, queryBoard, setPulseTime, toHex, unlock, type BoardStateBits, type Frame } from './codec.js';

export interface KerongBusOptions {
  gatewayId: string;
  host: string;
  port: number;
  replyTimeoutMs: number;
  /** Silence that ends the drain after a timeout. */
  drainMs: number;
  /** Pause after a frame that expects no reply, so the board can act before the next frame. */
  interFrameGapMs?: number;
  reconnectInitialMs: number;
  /** Longest wait between connection attempts: a gateway that is back is found within this time. */
  reconnectMaxMs: number;
  connectTimeoutMs: number;
  logger: Logger;
  /** Timers of the waits between connection attempts (default: real time); tests inject a manual clock. */
  timers?: Timers;
}

export type BusPriority = 'unlock' | 'poll';

interface Transaction {
  frame: Buffer;
  priority: BusPriority;
  /** Null when the frame expects no reply: done once it is written. */
  match: ((frame: Frame) => boolean) | null;
  resolve: (frame: Frame | null) => void;
  reject: (error: Error) => void;
}

/**
 * Events: `online` (connected), `offline` (reason: string, after a connection
 * was lost), `connect_failed` (an attempt failed while not connected), `sent` (frame:
 * Buffer, written to the socket), `unmatched` (frame: Frame, a reply nobody
 * waited for, e.g. a late one or a state reply to an unlock).
 */
export class KerongBus extends EventEmitter {
  private socket: Socket | null = null;
  private connected = false;
  private everConnected = false;
  private running = false;
  private attempt = 0;
  private reconnectTimer: TimerHandle | null = null;
  private readonly queue: Transaction[] = [];
  private current: Transaction | null = null;
  private busy = false;
  private replyTimer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private drainDeadline: NodeJS.Timeout | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  private draining = false;
  private readonly parser = new FrameParser();
  private readonly log: Logger;

  constructor(private readonly options: KerongBusOptions) {
    super();
    this.log = options.logger.child({ component: 'kerong-bus', gateway: options.gatewayId });
  }

  get gatewayId(): string {
    return this.options.gatewayId;
  }

  get online(): boolean {
    return this.connected;
  }

  /** Bytes the parser threw away so far (noise, bad checksums, drained replies). */
  get garbageBytes(): number {
    return this.parser.garbageBytes;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.reconnectTimer?.cancel();
    this.reconnectTimer = null;
    const socket = this.socket;
    if (socket && !socket.destroyed) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.destroy();
      await closed;
    }
    this.failAll('stopped');
  }

  /** Queries one board's lock and item bits. Rejects with DEPENDENCY_UNAVAILABLE on timeout or lost connection. */
  async query(board: number): Promise<BoardStateBits> {
    const reply = await this.transact(queryBoard(board), 'poll', (f) => f.cmd === CMD.BOARD_STATE && boardOf(f.addr) === board);
    if (reply === null) throw new Error('query expects a reply');
    return decodeBoardState(reply);
  }

  /**
   * Pulses one lock (wire numbering 0-15). Resolves once the frame is written
   * to the socket; whether the door moved shows in the next state reply.
   */
  async unlock(board: number, lock: number): Promise<void> {
    await this.transact(unlock(board, lock), 'unlock', null);
  }

  async setPulse(board: number, pulseMs: number): Promise<void> {
    await this.transact(setPulseTime(board, pulseMs), 'poll', null);
  }

  transact(frame: Buffer, priority: BusPriority, match: ((frame: Frame) => boolean) | null): Promise<Frame | null> {
    if (!this.connected) {
      // Never queue for later: an unlock that fires minutes after the request could open a door nobody stands at.
      return Promise.reject(this.unavailable('not connected'));
    }
    return new Promise<Frame | null>((resolve, reject) => {
      const tx: Transaction = { frame, priority, match, resolve, reject };
      if (priority === 'unlock') {
        const firstPoll = this.queue.findIndex((t) => t.priority !== 'unlock');
        this.queue.splice(firstPoll === -1 ? this.queue.length : firstPoll, 0, tx);
      } else {
        this.queue.push(tx);
      }
      this.pump();
    });
  }

  private unavailable(why: string, cause?: unknown): DokuboxError {
    return new DokuboxError(
      'DEPENDENCY_UNAVAILABLE',
      `Lock gateway ${this.options.gatewayId} (${this.options.host}:${this.options.port}): ${why}. Check the gateway's power and network; the command was not retried.`,
      { context: { gateway: this.options.gatewayId }, cause },
    );
  }

  private connect(): void {
    if (!this.running) return;
    const socket = createConnection({ host: this.options.host, port: this.options.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.setTimeout(this.options.connectTimeoutMs, () => {
      if (!this.connected) socket.destroy(new Error('connect timeout'));
    });
    socket.on('connect', () => {
      socket.setTimeout(0);
      this.connected = true;
      this.attempt = 0;
      this.parser.reset();
      this.log[this.everConnected ? 'info' : 'debug']({ event: 'locker.gateway.connected' }, this.everConnected ? 'lock gateway connected again' : 'lock gateway connected');
      this.everConnected = true;
      this.emit('online');
      this.pump();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => {
      this.log.warn({ event: 'locker.gateway.error', err: { message: error.message } }, 'lock gateway socket error');
    });
    socket.on('close', () => this.onClose(socket));
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    const wasConnected = this.connected;
    this.connected = false;
    this.failAll('connection lost');
    if (wasConnected) {
      if (this.running) this.log.warn({ event: 'locker.gateway.disconnected' }, 'lock gateway connection lost');
      else this.log.debug({ event: 'locker.gateway.closed' }, 'lock gateway connection closed');
      this.emit('offline', 'connection_lost');
    } else if (this.running) {
      // With attempts a few seconds apart, a long outage would fill the log: the first failure and then every 30th are warnings.
      const failures = this.attempt + 1;
      this.log[failures === 1 || failures % 30 === 0 ? 'warn' : 'debug']({ event: 'locker.gateway.unreachable', attempt: failures }, 'lock gateway not reachable');
      this.emit('connect_failed');
    }
    if (this.running) {
      // Capped at a few seconds (reconnectMaxMs), so a gateway that comes back is in use again within that time.
      const delay = Math.min(this.options.reconnectMaxMs, this.options.reconnectInitialMs * 2 ** Math.min(this.attempt, 30));
      this.attempt += 1;
      this.reconnectTimer = (this.options.timers ?? systemClock).setTimer(delay, () => {
        this.reconnectTimer = null;
        this.connect();
      });
    }
  }

  private failAll(why: string): void {
    // A pending gap timer from the old connection must not release the bus under a new connection's transaction.
    for (const timer of [this.replyTimer, this.drainTimer, this.drainDeadline, this.gapTimer]) if (timer) clearTimeout(timer);
    this.replyTimer = this.drainTimer = this.drainDeadline = this.gapTimer = null;
    this.draining = false;
    const pending = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = null;
    this.busy = false;
    for (const tx of pending) tx.reject(this.unavailable(why));
  }

  private pump(): void {
    if (this.busy || !this.connected || this.socket === null) return;
    const tx = this.queue.shift();
    if (!tx) return;
    this.busy = true;
    this.current = tx;
    const socket = this.socket;
    if (tx.match !== null) {
      this.replyTimer = setTimeout(() => this.onReplyTimeout(tx), this.options.replyTimeoutMs);
    }
    socket.write(tx.frame, (error) => {
      if (error) return; // the close handler rejects it
      this.emit('sent', tx.frame);
      if (tx.match === null && this.current === tx) {
        this.current = null;
        tx.resolve(null);
        this.gapTimer = setTimeout(() => {
          this.gapTimer = null;
          this.release();
        }, this.options.interFrameGapMs ?? 20);
      }
    });
  }

  private release(): void {
    this.busy = false;
    this.pump();
  }

  private onReplyTimeout(tx: Transaction): void {
    if (this.current !== tx) return;
    this.replyTimer = null;
    this.current = null;
    tx.reject(this.unavailable(`no reply to ${toHex(tx.frame)} within ${this.options.replyTimeoutMs} ms`));
    // A late or half reply may still be on the way: wait for silence so it is not taken as the next frame's answer.
    this.draining = true;
    this.parser.reset();
    this.restartDrainTimer();
    this.drainDeadline = setTimeout(() => this.endDrain(), Math.max(this.options.replyTimeoutMs, this.options.drainMs));
  }

  private restartDrainTimer(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = setTimeout(() => this.endDrain(), this.options.drainMs);
  }

  private endDrain(): void {
    if (!this.draining) return;
    for (const timer of [this.drainTimer, this.drainDeadline]) if (timer) clearTimeout(timer);
    this.drainTimer = this.drainDeadline = null;
    this.draining = false;
    this.parser.reset();
    this.release();
  }

  private onData(chunk: Buffer): void {
    if (this.draining) {
      this.parser.garbageBytes += chunk.length;
      this.restartDrainTimer();
      return;
    }
    for (const frame of this.parser.push(chunk)) {
      const tx = this.current;
      if (tx && tx.match !== null && tx.match(frame)) {
        if (this.replyTimer) clearTimeout(this.replyTimer);
        this.replyTimer = null;
        this.current = null;
        tx.resolve(frame);
        this.release();
      } else {
        this.log.debug({ event: 'locker.gateway.unmatched', frame: toHex(Uint8Array.from([frame.addr, frame.cmd])) }, 'reply nobody waited for');
        this.emit('unmatched', frame);
      }
    }
  }
}
