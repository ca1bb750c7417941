/**
 * Bytes <-> frames for Kerong CU16 lock boards (RS485, usually behind a
 * transparent TCP gateway). A frame is `STX ADDR CMD [DATA] ETX SUM` with
 * SUM = sum of all preceding bytes mod 256. Pure functions, no I/O; the
 * adapter and the board emulator both use it so they speak the same bytes.
 */

export const STX = 0x02;
export const ETX = 0x03;

export const CMD = {
  QUERY_BOARD: 0x30,
  UNLOCK: 0x31,
  QUERY_ALL: 0x32,
  UNLOCK_ALL: 0x33,
  BOARD_STATE: 0x35,
  ALL_STATE: 0x36,
  SET_PULSE: 0x37,
  DELAYED_UNLOCK: 0x39,
} as const;

/** Address that reaches every board on the bus. */
export const ALL_BOARDS = 0xf0;
export const MAX_BOARDS = 16;
export const LOCKS_PER_BOARD = 16;

/** Unit of the pulse time byte of 0x37 (not in the public sources: verify against hardware). */
export const PULSE_UNIT_MS = 100;

export interface Frame {
  addr: number;
  cmd: number;
  data: Uint8Array;
}

/** One board's state as carried by a 0x35 reply: bit n = wire lock n (0-15). */
export interface BoardStateBits {
  board: number;
  lockBits: number;
  irBits: number;
}

export function checksum(bytes: ArrayLike<number>, length = bytes.length): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += bytes[i] ?? 0;
  return sum & 0xff;
}

function assertNibble(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 15) {
    throw new RangeError(`${name} must be an integer 0-15 on a CU16 bus, got ${value}`);
  }
}

export function address(board: number, lock = 0): number {
  assertNibble('board', board);
  assertNibble('lock', lock);
  return (board << 4) | lock;
}

export function boardOf(addr: number): number {
  return (addr >> 4) & 0x0f;
}

export function lockOf(addr: number): number {
  return addr & 0x0f;
}

export function encodeFrame(addr: number, cmd: number, data: ArrayLike<number> = []): Buffer {
  const out = Buffer.alloc(5 + data.length);
  out[0] = STX;
  out[1] = addr & 0xff;
  out[2] = cmd & 0xff;
  for (let i = 0; i < data.length; i++) out[3 + i] = (data[i] ?? 0) & 0xff;
  out[3 + data.length] = ETX;
  out[4 + data.length] = checksum(out, 4 + data.length);
  return out;
}

export const queryBoard = (board: number): Buffer => encodeFrame(address(board), CMD.QUERY_BOARD);
export const unlock = (board: number, lock: number): Buffer => encodeFrame(address(board, lock), CMD.UNLOCK);
export const queryAll = (): Buffer => encodeFrame(ALL_BOARDS, CMD.QUERY_ALL);
export const unlockAll = (board: number): Buffer => encodeFrame(address(board), CMD.UNLOCK_ALL);

/** 0x37: one data byte, the pulse length in PULSE_UNIT_MS steps (1-255). */
export function setPulseTime(board: number, pulseMs: number): Buffer {
  const units = Math.min(255, Math.max(1, Math.round(pulseMs / PULSE_UNIT_MS)));
  return encodeFrame(address(board), CMD.SET_PULSE, [units]);
}

/** 0x39: one data byte, the delay before the pulse in seconds (0-255). */
export function delayedUnlock(board: number, lock: number, delaySeconds: number): Buffer {
  return encodeFrame(address(board, lock), CMD.DELAYED_UNLOCK, [Math.min(255, Math.max(0, Math.round(delaySeconds)))]);
}

export function boardState(state: BoardStateBits): Buffer {
  return encodeFrame(address(state.board), CMD.BOARD_STATE, [
    state.lockBits & 0xff,
    (state.lockBits >> 8) & 0xff,
    state.irBits & 0xff,
    (state.irBits >> 8) & 0xff,
  ]);
}

/** 0x36: a count byte, then `board L1-8 L9-16 IR1-8 IR9-16` per answering board. */
export function allState(states: BoardStateBits[]): Buffer {
  const data: number[] = [states.length];
  for (const s of states) {
    data.push(s.board & 0x0f, s.lockBits & 0xff, (s.lockBits >> 8) & 0xff, s.irBits & 0xff, (s.irBits >> 8) & 0xff);
  }
  return encodeFrame(ALL_BOARDS, CMD.ALL_STATE, data);
}

export function decodeBoardState(frame: Frame): BoardStateBits {
  if (frame.cmd !== CMD.BOARD_STATE || frame.data.length !== 4) {
    throw new RangeError(`not a CU16 board state frame (cmd 0x${frame.cmd.toString(16)}, ${frame.data.length} data bytes)`);
  }
  const d = frame.data;
  return {
    board: boardOf(frame.addr),
    lockBits: (d[0] ?? 0) | ((d[1] ?? 0) << 8),
    irBits: (d[2] ?? 0) | ((d[3] ?? 0) << 8),
  };
}

export function decodeAllState(frame: Frame): BoardStateBits[] {
  if (frame.cmd !== CMD.ALL_STATE) throw new RangeError('not a CU16 all-boards state frame');
  const d = frame.data;
  const count = d[0] ?? 0;
  const out: BoardStateBits[] = [];
  for (let i = 0; i < count; i++) {
    const o = 1 + i * 5;
    out.push({
      board: (d[o] ?? 0) & 0x0f,
      lockBits: (d[o + 1] ?? 0) | ((d[o + 2] ?? 0) << 8),
      irBits: (d[o + 3] ?? 0) | ((d[o + 4] ?? 0) << 8),
    });
  }
  return out;
}

export function bit(bits: number, index: number): 0 | 1 {
  return ((bits >> index) & 1) === 1 ? 1 : 0;
}

/**
 * Total frame length once STX, ADDR, CMD (and for 0x36 the count byte) are
 * known; undefined for a command this codec does not know, and null when
 * more bytes are needed to tell.
 */
function frameLength(buf: Buffer, start: number): number | null | undefined {
  if (buf.length - start < 3) return null;
  const cmd = buf[start + 2];
  switch (cmd) {
    case CMD.QUERY_BOARD:
    case CMD.UNLOCK:
    case CMD.QUERY_ALL:
    case CMD.UNLOCK_ALL:
      return 5;
    case CMD.SET_PULSE:
    case CMD.DELAYED_UNLOCK:
      return 6;
    case CMD.BOARD_STATE:
      return 9;
    case CMD.ALL_STATE: {
      if (buf.length - start < 4) return null;
      const count = buf[start + 3] ?? 0;
      return count > MAX_BOARDS ? undefined : 6 + count * 5;
    }
    default:
      return undefined;
  }
}

/**
 * Streaming parser: feed it whatever the socket delivers (split frames, noise,
 * several frames at once) and get whole, checksum-valid frames back. Bytes that
 * cannot start a valid frame are counted as garbage and skipped one at a time,
 * so a frame hidden behind noise (even noise that contains STX) is still found.
 */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes discarded so far (noise, bad checksums, unknown commands). */
  garbageBytes = 0;

  push(chunk: Uint8Array): Frame[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    let pos = 0;
    while (pos < this.buf.length) {
      if (this.buf[pos] !== STX) {
        pos++;
        this.garbageBytes++;
        continue;
      }
      const len = frameLength(this.buf, pos);
      if (len === null) break;
      if (len === undefined) {
        pos++;
        this.garbageBytes++;
        continue;
      }
      if (this.buf.length - pos < len) break;
      const valid = this.buf[pos + len - 2] === ETX && this.buf[pos + len - 1] === checksum(this.buf.subarray(pos, pos + len - 1));
      if (!valid) {
        pos++;
        this.garbageBytes++;
        continue;
      }
      frames.push({
        addr: this.buf[pos + 1] ?? 0,
        cmd: this.buf[pos + 2] ?? 0,
        data: Uint8Array.from(this.buf.subarray(pos + 3, pos + len - 2)),
      });
      pos += len;
    }
    this.buf = this.buf.subarray(pos);
    return frames;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get pending(): number {
    return this.buf.length;
  }

  /** Forgets a half-received frame (after a timeout the line is drained). */
  reset(): void {
    this.garbageBytes += this.buf.length;
    this.buf = Buffer.alloc(0);
  }
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}
