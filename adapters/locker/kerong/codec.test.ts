import { describe, expect, it } from 'vitest';
import {
  CMD,
  FrameParser,
  address,
  allState,
  boardState,
  checksum,
  decodeAllState,
  decodeBoardState,
  delayedUnlock,
  encodeFrame,
  queryAll,
  queryBoard,
  setPulseTime,
  toHex,
  unlock,
  unlockAll,
} from './codec.js';

describe('CU16 codec', () => {
  it('encodes the published examples', () => {
    expect(toHex(queryBoard(0))).toBe('02 00 30 03 35');
    expect(toHex(unlock(0, 0))).toBe('02 00 31 03 36');
  });

  it('puts the board in the high nibble and the lock in the low nibble', () => {
    expect(address(3, 5)).toBe(0x35);
    expect(toHex(unlock(15, 15))).toBe('02 ff 31 03 35');
    expect(toHex(queryBoard(2))).toBe('02 20 30 03 55');
    expect(toHex(queryAll())).toBe('02 f0 32 03 27');
    expect(toHex(unlockAll(1))).toBe('02 10 33 03 48');
    expect(() => address(16)).toThrow(RangeError);
    expect(() => unlock(0, -1)).toThrow(RangeError);
  });

  it('sums all preceding bytes modulo 256', () => {
    expect(checksum([0x02, 0xff, 0x31, 0x03])).toBe(0x35);
    const frame = encodeFrame(0x10, CMD.BOARD_STATE, [0xff, 0xff, 0xff, 0xff]);
    expect(frame[frame.length - 1]).toBe(checksum(frame.subarray(0, frame.length - 1)));
  });

  it('encodes pulse time and delayed unlock with one data byte', () => {
    expect(toHex(setPulseTime(0, 500))).toBe('02 00 37 05 03 41');
    expect(toHex(delayedUnlock(1, 2, 3))).toBe('02 12 39 03 03 53');
  });

  it('round-trips a 9-byte state reply with lock and item bits', () => {
    const frame = boardState({ board: 4, lockBits: 0x8001, irBits: 0x0102 });
    expect(frame.length).toBe(9);
    expect(toHex(frame.subarray(0, 8))).toBe('02 40 35 01 80 02 01 03');
    const [decoded] = new FrameParser().push(frame);
    expect(decoded).toBeDefined();
    expect(decodeBoardState(decoded!)).toEqual({ board: 4, lockBits: 0x8001, irBits: 0x0102 });
  });

  it('round-trips the all-boards reply', () => {
    const states = [
      { board: 0, lockBits: 1, irBits: 2 },
      { board: 9, lockBits: 0xffff, irBits: 0 },
    ];
    const [frame] = new FrameParser().push(allState(states));
    expect(decodeAllState(frame!)).toEqual(states);
  });
});

describe('FrameParser', () => {
  it('reassembles a frame split into single bytes', () => {
    const parser = new FrameParser();
    const bytes = boardState({ board: 1, lockBits: 3, irBits: 0 });
    const out = [];
    for (const b of bytes) out.push(...parser.push(Uint8Array.of(b)));
    expect(out).toHaveLength(1);
    expect(decodeBoardState(out[0]!).lockBits).toBe(3);
    expect(parser.pending).toBe(0);
  });

  it('drains garbage, including bytes that look like STX, before a frame', () => {
    const parser = new FrameParser();
    const noise = Buffer.from([0xaa, 0x02, 0x00, 0x35, 0x02, 0x55, 0x03]);
    const frame = boardState({ board: 2, lockBits: 0x10, irBits: 0x10 });
    const out = parser.push(Buffer.concat([noise, frame]));
    expect(out).toHaveLength(1);
    expect(decodeBoardState(out[0]!).board).toBe(2);
    expect(parser.garbageBytes).toBe(noise.length);
  });

  it('parses several frames in one chunk and keeps a trailing partial frame', () => {
    const parser = new FrameParser();
    const a = queryBoard(0);
    const b = unlock(1, 2);
    const c = boardState({ board: 3, lockBits: 0, irBits: 0 });
    const out = parser.push(Buffer.concat([a, b, c.subarray(0, 4)]));
    expect(out.map((f) => f.cmd)).toEqual([CMD.QUERY_BOARD, CMD.UNLOCK]);
    expect(parser.pending).toBe(4);
    expect(parser.push(c.subarray(4))).toHaveLength(1);
  });

  it('rejects a frame with a bad checksum', () => {
    const parser = new FrameParser();
    const bad = Buffer.from([0x02, 0x00, 0x30, 0x03, 0x36]);
    expect(parser.push(bad)).toEqual([]);
    expect(parser.push(queryBoard(0))).toHaveLength(1);
  });

  it('reset forgets a half-received frame', () => {
    const parser = new FrameParser();
    parser.push(boardState({ board: 0, lockBits: 0, irBits: 0 }).subarray(0, 5));
    parser.reset();
    expect(parser.pending).toBe(0);
    expect(parser.push(queryBoard(0))).toHaveLength(1);
  });
});
