/**
 * Compartment layouts for the lock-board emulators and tests: Magdeburg's
 * 456-compartment box on two gateways, and a generic generator.
 */
import type { CompartmentLayout } from '../../adapters/locker/types.js';

export interface GridLayoutOptions {
  count: number;
  /** Gateway ids in order; each carries up to 256 compartments (16 boards x 16 locks). */
  gateways: string[];
  lockNumberBase?: 0 | 1;
  /** Labels are the 1-based position, zero-padded to this width. */
  idWidth?: number;
}

export function gridLayout(options: GridLayoutOptions): CompartmentLayout[] {
  const base = options.lockNumberBase ?? 0;
  const width = options.idWidth ?? 3;
  const out: CompartmentLayout[] = [];
  for (let i = 0; i < options.count; i++) {
    const gateway = options.gateways[Math.floor(i / 256)];
    if (gateway === undefined) throw new RangeError(`${options.count} compartments need ${Math.ceil(options.count / 256)} gateways`);
    const onBus = i % 256;
    out.push({ id: String(i + 1).padStart(width, '0'), locker: { gateway, board: Math.floor(onBus / 16), lock: (onBus % 16) + base } });
  }
  return out;
}

/** Magdeburg's foyer box (mappings/boxes/md-foyer.yaml): 456 compartments, gw1 then gw2, 0-based locks. */
export function magdeburgLayout(): CompartmentLayout[] {
  return gridLayout({ count: 456, gateways: ['gw1', 'gw2'] });
}
