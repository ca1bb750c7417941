/**
 * Builds the locker adapter a box mapping asks for (`locker.adapter`:
 * `kerong` or `smart`), so the composition root needs one call per box.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../src/core/clock.js';
import { DokuboxError } from '../../src/core/errors.js';
import { KerongLocker, parseKerongConfig } from './kerong/index.js';
import { SmartLocker, parseSmartConfig } from './smart/index.js';
import type { CompartmentLayout, LockAddress, LockerAdapter } from './types.js';

export type * from './types.js';
export { gatewayConfigSchema, kerongBoxConfigSchema } from './types.js';
export { KerongLocker, parseKerongConfig } from './kerong/index.js';
export { SmartLocker, parseSmartConfig, smartLockerConfigSchema } from './smart/index.js';
export { GatewayLease, GatewayLeases } from './lease.js';

export interface LockerBoxInput {
  id: string;
  /** The mapping's `locker:` block as parsed from YAML. */
  locker?: Record<string, unknown>;
  compartments: { id: string; locker?: LockAddress; itemSensor?: boolean }[];
}

export interface LockerDeps {
  logger: Logger;
  clock?: Clock;
  /** Kerong only: false when gateway leases decide which instance connects. */
  autoConnect?: boolean;
  /** Smart only: injected fetch (tests, proxies). */
  fetch?: typeof fetch;
}

export function createLockerAdapter(box: LockerBoxInput, deps: LockerDeps): LockerAdapter {
  const kind = box.locker?.adapter ?? 'kerong';
  if (kind === 'kerong') {
    const compartments: CompartmentLayout[] = box.compartments.map((c, i) => {
      if (!c.locker) {
        throw new DokuboxError('CONFIG_INVALID', `Box ${box.id}: compartment ${c.id} has no locker address (gateway, board, lock). Add it to the box mapping.`, { field: `compartments[${i}].locker` });
      }
      return { id: c.id, locker: c.locker, ...(c.itemSensor === undefined ? {} : { itemSensor: c.itemSensor }) };
    });
    return new KerongLocker({ config: parseKerongConfig(box.locker ?? {}), compartments, logger: deps.logger.child({ box: box.id }), clock: deps.clock, autoConnect: deps.autoConnect });
  }
  if (kind === 'smart') {
    return new SmartLocker({ config: parseSmartConfig(box.locker ?? {}), compartments: box.compartments.map((c) => ({ id: c.id })), logger: deps.logger.child({ box: box.id }), clock: deps.clock, fetch: deps.fetch });
  }
  throw new DokuboxError('CONFIG_INVALID', `Box ${box.id}: locker adapter '${String(kind)}' is not known. Use 'kerong' or 'smart'.`, { field: 'locker.adapter' });
}
