/**
 * The simulated boxes of `npm start` keep what is inside them across a
 * restart (as real boxes do after a power cut): door, lock and item sensor
 * of every compartment live in a state file under the state directory.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBoxes } from '../../src/mappings/loaders.js';
import type { SimulatorPart } from '../index.js';
import { startLockerPart } from './part.js';

const boxes = [...loadBoxes('tests/fixtures/boxes-locker').values()];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dokubox-sim-state-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dir?: string): Promise<SimulatorPart> {
  const part = await startLockerPart(boxes, dir === undefined ? {} : { stateDir: dir });
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await part.close();
  });
  return {
    ...part,
    close: async () => {
      closed = true;
      await part.close();
    },
  };
}

async function act(part: SimulatorPart, compartment: string, action: string): Promise<void> {
  const response = await fetch(`${part.urls.control}boxes/small/compartments/${compartment}/${action}`, { method: 'POST' });
  expect(response.status).toBe(200);
}

async function compartments(part: SimulatorPart): Promise<{ id: string; door: string; item: string }[]> {
  const state = (await (await fetch(part.urls.control!)).json()) as Record<string, { id: string; door: string; item: string }[]>;
  return state.small ?? [];
}

/** One turn of the event loop: the part writes its state file once per turn. */
const written = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the simulated lock boards of npm start', () => {
  it('restore doors and documents after a restart', async () => {
    const dir = stateDir();
    const first = await start(dir);
    await act(first, 'A1', 'force-open');
    await act(first, 'A1', 'insert');
    await act(first, 'A1', 'close');
    await act(first, 'A2', 'force-open');
    await first.close();

    const second = await start(dir);
    expect(await compartments(second)).toEqual([
      { id: 'A1', door: 'closed', item: 'present' },
      { id: 'A2', door: 'open', item: 'absent' },
      { id: 'A3', door: 'closed', item: 'absent' },
      { id: 'A4', door: 'closed', item: 'absent' },
    ]);
    expect(readdirSync(dir)).toEqual(['cu16-small.json']);
  });

  it('have written every change before the process could be killed', async () => {
    const dir = stateDir();
    const first = await start(dir);
    await act(first, 'A3', 'force-open');
    await act(first, 'A3', 'insert');
    await written();
    // The first process is never closed (kill -9): the second reads what the first wrote.
    const second = await start(dir);
    expect((await compartments(second)).find((c) => c.id === 'A3')).toEqual({ id: 'A3', door: 'open', item: 'present' });
  });

  it('start empty without a state directory', async () => {
    const part = await start();
    await act(part, 'A1', 'force-open');
    await act(part, 'A1', 'insert');
    await part.close();
    const again = await start();
    expect((await compartments(again)).find((c) => c.id === 'A1')).toEqual({ id: 'A1', door: 'closed', item: 'absent' });
  });
});
