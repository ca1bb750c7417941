/**
 * The lock boards of every box with a Kerong `locker:` block, emulated on
 * real TCP sockets, plus a small HTTP control API for testers to act as the
 * people in front of the box:
 *   GET  /                                   state of every compartment
 *   POST /boxes/:box/compartments/:id/:action  insert | take | close | force-open | jam | unjam
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BoxDefinition } from '../../src/core/box.js';
import type { SimulatorPart } from '../index.js';
import { Cu16Emulator } from './cu16-emulator.js';

export async function startLockerPart(boxes: BoxDefinition[]): Promise<SimulatorPart> {
  const emulators = new Map<string, Cu16Emulator>();
  const endpoints: Record<string, string> = {};
  for (const box of boxes) {
    const locker = box.locker as { adapter?: string; gateways?: { id: string }[]; lockNumberBase?: 0 | 1; lockBitOpenValue?: 0 | 1 } | undefined;
    if (locker === undefined || (locker.adapter ?? 'kerong') !== 'kerong' || locker.gateways === undefined) continue;
    const emulator = new Cu16Emulator({
      gateways: locker.gateways.map((g) => ({ id: g.id })),
      compartments: box.compartments.flatMap((c) => (c.locker === undefined ? [] : [{ id: c.id, locker: c.locker }])),
      ...(locker.lockNumberBase === undefined ? {} : { lockNumberBase: locker.lockNumberBase }),
      ...(locker.lockBitOpenValue === undefined ? {} : { lockBitOpenValue: locker.lockBitOpenValue }),
    });
    for (const gateway of await emulator.start()) endpoints[`${box.id}/${gateway.id}`] = `${gateway.host}:${gateway.port}`;
    emulators.set(box.id, emulator);
  }

  const control: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/') {
      const state: Record<string, unknown> = {};
      for (const [boxId, emulator] of emulators) {
        const box = boxes.find((b) => b.id === boxId);
        state[boxId] = box?.compartments.map((c) => ({ id: c.id, door: emulator.door(c.id), item: emulator.item(c.id) }));
      }
      return send(200, state);
    }
    const match = /^\/boxes\/([^/]+)\/compartments\/([^/]+)\/([a-z-]+)$/.exec(url.pathname);
    const emulator = match ? emulators.get(match[1] ?? '') : undefined;
    if (req.method !== 'POST' || !match || emulator === undefined) return send(404, { error: 'use GET / or POST /boxes/:box/compartments/:id/(insert|take|close|force-open|jam|unjam)' });
    const id = match[2] ?? '';
    const actions: Record<string, () => void> = {
      insert: () => emulator.insertItem(id),
      take: () => emulator.takeItem(id),
      close: () => emulator.closeDoor(id),
      'force-open': () => emulator.forceOpen(id),
      jam: () => emulator.jamLock(id, true),
      unjam: () => emulator.jamLock(id, false),
    };
    const action = actions[match[3] ?? ''];
    if (action === undefined) return send(404, { error: `unknown action ${match[3] ?? ''}` });
    try {
      action();
      return send(200, { id, door: emulator.door(id), item: emulator.item(id) });
    } catch (error) {
      return send(400, { error: error instanceof Error ? error.message : String(error) });
    }
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const port = (control.address() as AddressInfo).port;

  return {
    name: 'locker',
    urls: {
      control: `http://127.0.0.1:${port}/`,
      ...Object.fromEntries(Object.entries(endpoints).map(([k, v]) => [`CU16 gateway ${k}`, `tcp://${v}`])),
    },
    env: { LOCKER_ENDPOINTS: JSON.stringify(endpoints) },
    shell: { LOCKERS: `http://127.0.0.1:${port}` },
    async close() {
      await new Promise<void>((resolve) => control.close(() => resolve()));
      for (const emulator of emulators.values()) await emulator.stop();
    },
  };
}
