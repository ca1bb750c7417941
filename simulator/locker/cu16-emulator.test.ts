/**
 * The CU16 emulator at byte level: a raw TCP client sends the published
 * frames and checks the exact bytes that come back.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameParser, decodeAllState, decodeBoardState, toHex, type Frame } from '../../adapters/locker/kerong/codec.js';
import { Cu16Emulator } from './cu16-emulator.js';
import { gridLayout, magdeburgLayout } from './layouts.js';

const open: { emulator?: Cu16Emulator; sockets: Socket[] } = { sockets: [] };

afterEach(async () => {
  for (const s of open.sockets.splice(0)) s.destroy();
  await open.emulator?.stop();
  open.emulator = undefined;
});

async function client(port: number): Promise<{ send: (hex: string) => void; next: () => Promise<Frame>; raw: Buffer[] }> {
  const socket = connect(port, '127.0.0.1');
  open.sockets.push(socket);
  await once(socket, 'connect');
  const parser = new FrameParser();
  const frames: Frame[] = [];
  const raw: Buffer[] = [];
  const waiting: ((f: Frame) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    raw.push(chunk);
    for (const f of parser.push(chunk)) {
      const w = waiting.shift();
      if (w) w(f);
      else frames.push(f);
    }
  });
  return {
    send: (hex) => socket.write(Buffer.from(hex.replace(/ /g, ''), 'hex')),
    next: () => {
      const f = frames.shift();
      return f ? Promise.resolve(f) : new Promise((resolve) => waiting.push(resolve));
    },
    raw,
  };
}

describe('CU16 emulator', () => {
  it('answers the published query with a 9-byte state reply and opens a door on the published unlock', async () => {
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }], compartments: gridLayout({ count: 16, gateways: ['gw1'] }) });
    open.emulator = emulator;
    const [gw] = await emulator.start();
    const c = await client(gw!.port);
    c.send('02 00 30 03 35');
    const closed = await c.next();
    expect(toHex(Buffer.concat(c.raw))).toBe('02 00 35 00 00 00 00 03 3a');
    expect(decodeBoardState(closed).lockBits).toBe(0);

    const unlocked = once(emulator, 'unlock');
    c.send('02 00 31 03 36');
    expect((await unlocked)[0]).toMatchObject({ board: 0, lock: 0, compartmentId: '001', opened: true });
    emulator.insertItem('001');
    c.send('02 00 30 03 35');
    const state = decodeBoardState(await c.next());
    expect(state).toEqual({ board: 0, lockBits: 1, irBits: 1 });
  });

  it('inverts the lock bit for boards where 0 means open', async () => {
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }], compartments: gridLayout({ count: 16, gateways: ['gw1'] }), lockBitOpenValue: 0 });
    open.emulator = emulator;
    const [gw] = await emulator.start();
    const c = await client(gw!.port);
    emulator.forceOpen('003');
    c.send('02 00 30 03 35');
    expect(decodeBoardState(await c.next()).lockBits).toBe(0xffff & ~(1 << 2));
  });

  it('answers query-all with every answering board and keeps silent boards out', async () => {
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }, { id: 'gw2' }], compartments: magdeburgLayout() });
    open.emulator = emulator;
    const gateways = await emulator.start();
    expect(gateways.map((g) => g.id)).toEqual(['gw1', 'gw2']);
    const c = await client(emulator.port('gw2'));
    emulator.silenceBoard('gw2', 12);
    c.send('02 f0 32 03 27');
    const boards = decodeAllState(await c.next());
    // 456 - 256 = 200 compartments on gw2: boards 0-12, board 12 silenced.
    expect(boards.map((b) => b.board)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('a jammed lock counts the pulse but stays shut; a silent board ignores everything', async () => {
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }], compartments: gridLayout({ count: 32, gateways: ['gw1'] }) });
    open.emulator = emulator;
    const [gw] = await emulator.start();
    const c = await client(gw!.port);
    emulator.jamLock('017');
    const unlocked = once(emulator, 'unlock');
    c.send('02 10 31 03 46');
    expect((await unlocked)[0]).toMatchObject({ compartmentId: '017', opened: false });
    expect(emulator.door('017')).toBe('closed');
    expect(emulator.unlockCount('017')).toBe(1);

    emulator.silenceBoard('gw1', 1);
    const seen = once(emulator, 'request');
    c.send('02 10 31 03 46');
    await seen;
    expect(emulator.unlockCount('017')).toBe(1);
  });

  it('sends garbage, split and delayed replies when told to', async () => {
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }], compartments: gridLayout({ count: 16, gateways: ['gw1'] }) });
    open.emulator = emulator;
    const [gw] = await emulator.start();
    const c = await client(gw!.port);
    emulator.setGarbage('gw1', Uint8Array.of(0xaa, 0x02));
    emulator.setSplitReplies('gw1', 5);
    emulator.setReplyDelay('gw1', 5);
    c.send('02 00 30 03 35');
    await c.next();
    expect(c.raw.length).toBeGreaterThanOrEqual(2);
    expect(toHex(Buffer.concat(c.raw))).toBe('aa 02 02 00 35 00 00 00 00 03 3a');
  });

  it('refuses connections while the gateway is dropped and listens on the same port again', async () => {
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }], compartments: gridLayout({ count: 16, gateways: ['gw1'] }) });
    open.emulator = emulator;
    const [gw] = await emulator.start();
    await client(gw!.port);
    await emulator.dropGateway('gw1');
    expect(emulator.connectionCount('gw1')).toBe(0);
    const refused = connect(gw!.port, '127.0.0.1');
    open.sockets.push(refused);
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    await emulator.restoreGateway('gw1');
    expect(emulator.port('gw1')).toBe(gw!.port);
    const c = await client(gw!.port);
    c.send('02 00 30 03 35');
    await c.next();
  });

  it('builds the Magdeburg layout as in the box mapping', () => {
    const layout = magdeburgLayout();
    expect(layout).toHaveLength(456);
    expect(layout[0]).toEqual({ id: '001', locker: { gateway: 'gw1', board: 0, lock: 0 } });
    expect(layout[255]).toEqual({ id: '256', locker: { gateway: 'gw1', board: 15, lock: 15 } });
    expect(layout[256]).toEqual({ id: '257', locker: { gateway: 'gw2', board: 0, lock: 0 } });
    expect(layout[455]).toEqual({ id: '456', locker: { gateway: 'gw2', board: 12, lock: 7 } });
  });
});
