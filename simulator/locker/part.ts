/**
 * The lock boards of every box with a Kerong `locker:` block, emulated on
 * real TCP sockets, plus a small HTTP control API for testers to act as the
 * people in front of the box:
 *   GET  /                                   state of every compartment
 *   POST /boxes/:box/compartments/:id/:action  insert | take | close | force-open | jam | unjam
 * With a state directory (`npm start`: `VAR_DIR/simulator`) the boxes keep
 * what is inside them across restarts, as real ones do: door, lock and item
 * sensor of every compartment are written to `cu16-<box>.json` after every
 * change and read back on start.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BoxDefinition } from '../../src/core/box.js';
import type { SimulatorPart } from '../index.js';
import { Cu16Emulator, type Cu16EmulatorState } from './cu16-emulator.js';

export interface LockerPartOptions {
  /** Directory for the boxes' state files; without it every start begins with empty, closed compartments. */
  stateDir?: string;
}

/** Writes the file whole or not at all (a crash mid-write leaves the previous state). */
export function writeAtomically(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

/** The CU16 emulator of a box with a Kerong locker (none for other boxes); gateways on `host`, from `firstPort` on when given. */
export function emulatorForBox(box: BoxDefinition, listen: { host?: string; firstPort?: number } = {}): Cu16Emulator | undefined {
  const locker = box.locker as { adapter?: string; gateways?: { id: string }[]; lockNumberBase?: 0 | 1; lockBitOpenValue?: 0 | 1 } | undefined;
  if (locker === undefined || (locker.adapter ?? 'kerong') !== 'kerong' || locker.gateways === undefined) return undefined;
  const first = listen.firstPort === undefined || listen.firstPort === 0 ? undefined : listen.firstPort;
  return new Cu16Emulator({
    gateways: locker.gateways.map((g, i) => ({ id: g.id, ...(listen.host === undefined ? {} : { host: listen.host }), ...(first === undefined ? {} : { port: first + i }) })),
    compartments: box.compartments.flatMap((c) => (c.locker === undefined ? [] : [{ id: c.id, locker: c.locker }])),
    ...(locker.lockNumberBase === undefined ? {} : { lockNumberBase: locker.lockNumberBase }),
    ...(locker.lockBitOpenValue === undefined ? {} : { lockBitOpenValue: locker.lockBitOpenValue }),
  });
}

/**
 * Keeps the emulator's doors, items, locks and sensors in `cu16-<box>.json` under `stateDir`:
 * read back now, written after every change. Returns the save function (call it on stop).
 */
export function keepEmulatorState(emulator: Cu16Emulator, stateDir: string, boxId: string): () => void {
  const file = join(stateDir, `cu16-${boxId}.json`);
  if (existsSync(file)) emulator.restore(JSON.parse(readFileSync(file, 'utf8')) as Cu16EmulatorState);
  mkdirSync(stateDir, { recursive: true });
  const save = (): void => writeAtomically(file, JSON.stringify(emulator.state()));
  // Changes come in bursts (an unlock and a door, a test script): one write per turn of the event loop.
  let pending = false;
  emulator.on('change', () => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      save();
    });
  });
  save();
  return save;
}

export async function startLockerPart(boxes: BoxDefinition[], options: LockerPartOptions = {}): Promise<SimulatorPart> {
  const emulators = new Map<string, Cu16Emulator>();
  const saves: (() => void)[] = [];
  const endpoints: Record<string, string> = {};
  for (const box of boxes) {
    const emulator = emulatorForBox(box);
    if (emulator === undefined) continue;
    if (options.stateDir !== undefined) saves.push(keepEmulatorState(emulator, options.stateDir, box.id));
    for (const gateway of await emulator.start()) endpoints[`${box.id}/${gateway.id}`] = `${gateway.host}:${gateway.port}`;
    emulators.set(box.id, emulator);
  }

  const { server: control, port } = await startLockerControl(emulators, boxes);

  return {
    name: 'locker',
    urls: {
      control: `http://127.0.0.1:${port}/`,
      ...(options.stateDir === undefined ? {} : { state: options.stateDir }),
      ...Object.fromEntries(Object.entries(endpoints).map(([k, v]) => [`CU16 gateway ${k}`, `tcp://${v}`])),
    },
    env: { LOCKER_ENDPOINTS: JSON.stringify(endpoints) },
    shell: { LOCKERS: `http://127.0.0.1:${port}` },
    async close() {
      await new Promise<void>((resolve) => control.close(() => resolve()));
      for (const emulator of emulators.values()) await emulator.stop();
      for (const save of saves) save();
    },
  };
}

/** The HTTP control API over the emulated boxes (GET / and POST /boxes/:box/compartments/:id/:action). */
export async function startLockerControl(emulators: Map<string, Cu16Emulator>, boxes: BoxDefinition[]): Promise<{ server: Server; port: number; url: string }> {
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
  return { server: control, port, url: `http://127.0.0.1:${port}` };
}

