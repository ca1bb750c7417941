/**
 * Builds the locker adapter and lifecycle of every box that has a `locker:`
 * block, and binds Kerong gateways to Redis leases so that exactly one
 * service instance talks to each bus.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { KerongLocker, parseKerongConfig } from '../../adapters/locker/kerong/index.js';
import { GatewayLeases } from '../../adapters/locker/lease.js';
import type { CompartmentLayout, LockerAdapter } from '../../adapters/locker/types.js';
import type { BoxDefinition } from '../core/box.js';
import type { Clock, Timers } from '../core/clock.js';
import type { PickupService } from '../service/pickup-service.js';
import type { AlarmSink } from '../store/alarms.js';
import { BoxLifecycle } from './box-lifecycle.js';

export interface LockerRuntime {
  lifecycles: Map<string, BoxLifecycle>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface LockerRuntimeOptions {
  boxes: ReadonlyMap<string, BoxDefinition>;
  service: PickupService;
  alarms: AlarmSink;
  redis: Redis;
  keyPrefix: string;
  clock: Clock & Timers;
  logger: Logger;
  /** `box/gateway` -> `host:port`, overriding the box file (simulator, staging). */
  endpoints: Record<string, string>;
  doorOpenTimeoutMs: number;
  doorLeftOpenMs: number;
  leaseTtlMs: number;
}

function layoutOf(box: BoxDefinition): CompartmentLayout[] {
  return box.compartments.flatMap((c) => (c.locker === undefined ? [] : [{ id: c.id, locker: c.locker }]));
}

export function createLockerRuntime(o: LockerRuntimeOptions): LockerRuntime {
  const owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const lifecycles = new Map<string, BoxLifecycle>();
  const parts: { adapter: LockerAdapter; leases?: GatewayLeases; unbind?: () => void }[] = [];

  for (const box of o.boxes.values()) {
    const raw = box.locker;
    if (raw === undefined) continue;
    const kind = (raw as { adapter?: string }).adapter ?? 'kerong';
    if (kind !== 'kerong') {
      o.logger.warn({ boxId: box.id, adapter: kind }, 'locker adapter not available in this build; the box runs without a locker');
      continue;
    }
    const config = parseKerongConfig(raw);
    config.gateways = config.gateways.map((g) => {
      const override = o.endpoints[`${box.id}/${g.id}`];
      if (override === undefined) return g;
      const [host, port] = override.split(':');
      return { ...g, host: host ?? g.host, port: Number(port) };
    });
    const adapter = new KerongLocker({ config, compartments: layoutOf(box), logger: o.logger.child({ boxId: box.id }), clock: o.clock, autoConnect: false });
    const leases = new GatewayLeases({
      redis: o.redis,
      keyPrefix: o.keyPrefix,
      boxId: box.id,
      gatewayIds: config.gateways.map((g) => g.id),
      owner,
      ttlMs: o.leaseTtlMs,
      logger: o.logger,
    });
    parts.push({ adapter, leases });
    lifecycles.set(
      box.id,
      new BoxLifecycle({ box, adapter, service: o.service, alarms: o.alarms, clock: o.clock, logger: o.logger, doorOpenTimeoutMs: o.doorOpenTimeoutMs, doorLeftOpenMs: o.doorLeftOpenMs }),
    );
  }

  return {
    lifecycles,
    async start() {
      for (const lifecycle of lifecycles.values()) lifecycle.start();
      for (const part of parts) {
        await part.adapter.start();
        if (part.leases !== undefined) {
          part.unbind = part.leases.bind(part.adapter as KerongLocker, o.logger);
          part.leases.start();
        }
      }
    },
    async stop() {
      for (const lifecycle of lifecycles.values()) lifecycle.stop();
      // Stop talking to the buses before giving up the leases.
      for (const part of parts) {
        part.unbind?.();
        await part.adapter.stop();
        await part.leases?.stop({ release: true });
      }
    },
  };
}
