/**
 * Locker latency benchmark against the CU16 emulator over local TCP, with
 * Magdeburg's 456-compartment layout on two gateways: open() to the unlock
 * frame arriving at the board, open() to the door.opened event, and one full
 * poll cycle of every board. The numbers show the software's share; a real
 * RS485 line at 19200 baud adds about 2.6 ms per 5-byte frame and 4.7 ms per
 * state reply, plus the board's own reaction time.
 */
import { once } from 'node:events';
import { pino } from 'pino';
import { KerongLocker } from '../adapters/locker/kerong/index.js';
import type { LockerEvent } from '../adapters/locker/types.js';
import { Cu16Emulator } from '../simulator/locker/cu16-emulator.js';
import { magdeburgLayout } from '../simulator/locker/layouts.js';

function stats(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return `${label.padEnd(34)} n=${String(sorted.length).padStart(3)}  median ${at(0.5).toFixed(2)} ms  p95 ${at(0.95).toFixed(2)} ms  max ${(sorted[sorted.length - 1] ?? NaN).toFixed(2)} ms`;
}

export async function benchLocker(options: { opens?: number; cycles?: number } = {}): Promise<string> {
  const opens = options.opens ?? 40;
  const cycles = options.cycles ?? 10;
  const compartments = magdeburgLayout();
  const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }, { id: 'gw2' }], compartments });
  const gateways = await emulator.start();
  // A long interval keeps the background poll loop out of the measurements after the first cycle.
  const locker = new KerongLocker({ config: { gateways, pollIntervalMs: 3_600_000 }, compartments, logger: pino({ level: 'silent' }) });
  try {
    const ready = new Promise<void>((resolve) => {
      const check = (): void => {
        if (locker.snapshot().every((s) => s.door !== 'unknown')) {
          locker.off('event', check);
          resolve();
        }
      };
      locker.on('event', check);
    });
    await locker.start();
    await ready;

    const toFrame: number[] = [];
    const toEvent: number[] = [];
    for (let i = 0; i < opens; i++) {
      const compartment = compartments[(i * 37) % compartments.length];
      if (!compartment) continue;
      const id = compartment.id;
      const unlocked = once(emulator, 'unlock');
      const opened = new Promise<void>((resolve) => {
        const listener = (e: LockerEvent): void => {
          if (e.type === 'door.opened' && e.compartmentId === id) {
            locker.off('event', listener);
            resolve();
          }
        };
        locker.on('event', listener);
      });
      const t0 = performance.now();
      await locker.open(id);
      await unlocked;
      toFrame.push(performance.now() - t0);
      await opened;
      toEvent.push(performance.now() - t0);
      emulator.closeDoor(id);
      await locker.pollAll();
    }

    const cycleMs: number[] = [];
    for (let i = 0; i < cycles; i++) {
      const t0 = performance.now();
      await locker.pollAll();
      cycleMs.push(performance.now() - t0);
    }

    return [
      `locker (Kerong CU16 emulator over TCP, ${compartments.length} compartments, ${gateways.length} gateways)`,
      stats('open() -> unlock frame at board', toFrame),
      stats('open() -> door.opened event', toEvent),
      stats(`poll cycle, all ${compartments.length} compartments`, cycleMs),
    ].join('\n');
  } finally {
    await locker.stop();
    await emulator.stop();
  }
}
