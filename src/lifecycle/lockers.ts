/**
 * Builds the locker adapter and lifecycle of every box that has a `locker:`
 * block, and binds Kerong gateways to Redis leases so that exactly one
 * service instance talks to each bus.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { KerongLocker} from '../../adapters/locker/index.js';
import { createLockerAdapter, parseKerongConfig, SmartLocker } from '../../adapters/locker/index.js';
import { GatewayLeases } from '../../adapters/locker/lease.js';
import type { LockerAdapter } from '../../adapters/locker/types.js';
import type { BoxDefinition } from '../core/box.js';
import type { Clock, Timers } from '../core/clock.js';
import type { PickupService } from '../service/pickup-service.js';
import type { AlarmSink } from '../store/alarms.js';
import { BoxLifecycle } from './box-lifecycle.js';
import { DoorRelay } from './door-relay.js';

export interface LockerRuntime {
  lifecycles: Map<string, BoxLifecycle>;
  /** Smart controllers by box: their signed webhooks are mounted in the HTTP app. */
  smart: Map<string, SmartLocker>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface LockerRuntimeOptions {
  boxes: ReadonlyMap<string, BoxDefinition>;
  service: PickupService;
  alarms: AlarmSink;
  redis: Redis;
  keyPrefix: string;
  /** Domain time (the door-left-open alarm). */
  clock: Clock & Timers;
  /** Wall time: transport timeouts (door-open confirmation, relay replies) and the adapters (board events, webhook signatures); default `clock`. */
  wallClock?: Clock & Timers;
  logger: Logger;
  /** `box/gateway` -> `host:port`, overriding the box file (simulator, staging). */
  endpoints: Record<string, string>;
  doorOpenTimeoutMs: number;
  doorLeftOpenMs: number;
  leaseTtlMs: number;
  /** Compartments of a box marked defective (persisted in Redis). */
  defectiveOf(boxId: string): Promise<string[]>;
  /** Opens the door relay's pub/sub connection (default: a duplicate of `redis`). */
  subscriberConnection?: () => Redis;
}

export function createLockerRuntime(o: LockerRuntimeOptions): LockerRuntime {
  const owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const lifecycles = new Map<string, BoxLifecycle>();
  const smart = new Map<string, SmartLocker>();
  const parts: { adapter: LockerAdapter; leases?: GatewayLeases; unbind?: () => void }[] = [];
  const wallClock = o.wallClock ?? o.clock;
  const relay = new DoorRelay(o.redis, o.keyPrefix, wallClock, o.logger, o.doorOpenTimeoutMs + 3000, o.subscriberConnection);

  for (const box of o.boxes.values()) {
    const raw = box.locker;
    if (raw === undefined) continue;
    const kind = (raw as { adapter?: string }).adapter ?? 'kerong';
    let adapter: LockerAdapter;
    let route: ConstructorParameters<typeof BoxLifecycle>[0]['route'];
    if (kind === 'kerong') {
      const config = parseKerongConfig(raw);
      const gateways = config.gateways.map((g) => {
        const override = o.endpoints[`${box.id}/${g.id}`];
        if (override === undefined) return g;
        const [host, port] = override.split(':');
        return { ...g, host: host ?? g.host, port: Number(port) };
      });
      adapter = createLockerAdapter({ ...box, locker: { ...raw, gateways } }, { logger: o.logger, clock: wallClock, autoConnect: false });
      const leases = new GatewayLeases({
        redis: o.redis,
        keyPrefix: o.keyPrefix,
        boxId: box.id,
        gatewayIds: gateways.map((g) => g.id),
        owner,
        ttlMs: o.leaseTtlMs,
        logger: o.logger,
      });
      parts.push({ adapter, leases });
      const gatewayOf = new Map(box.compartments.flatMap((c) => (c.locker === undefined ? [] : [[c.id, c.locker.gateway] as const])));
      route = {
        isLocal: (compartment) => leases.held(gatewayOf.get(compartment) ?? ''),
        relay: (command) => relay.request(box.id, gatewayOf.get(command.compartment) ?? '', command),
      };
      // While this instance holds a gateway's lease it answers relayed door commands for it.
      leases.on('acquired', (gateway: string) => {
        const lifecycle = lifecycles.get(box.id);
        if (lifecycle !== undefined) void relay.serve(box.id, gateway, (command) => lifecycle.openLocally(command)).catch(() => undefined);
      });
      leases.on('lost', (gateway: string) => void relay.unserve(box.id, gateway).catch(() => undefined));
    } else {
      // Controllers with their own API need no lease: every instance may call them.
      adapter = createLockerAdapter(box, { logger: o.logger, clock: wallClock });
      if (adapter instanceof SmartLocker) smart.set(box.id, adapter);
      parts.push({ adapter });
    }
    lifecycles.set(
      box.id,
      new BoxLifecycle({
        box,
        adapter,
        service: o.service,
        alarms: o.alarms,
        clock: o.clock,
        wallClock,
        logger: o.logger,
        doorOpenTimeoutMs: o.doorOpenTimeoutMs,
        doorLeftOpenMs: o.doorLeftOpenMs,
        ...(route === undefined ? {} : { route }),
      }),
    );
  }

  return {
    lifecycles,
    smart,
    async start() {
      for (const lifecycle of lifecycles.values()) lifecycle.start();
      // Adapters keep "disabled" in memory only: restore it from the store's defective set.
      for (const [boxId, lifecycle] of lifecycles) {
        for (const compartment of await o.defectiveOf(boxId)) await lifecycle.adapter.setEnabled(compartment, false).catch(() => undefined);
      }
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
      await relay.close();
    },
  };
}
