/**
 * Batch subscribers and the read window of the outbox consumers (issue 13):
 * a batch handler gets a read's events at once and in order, a failing batch
 * is delivered again whole (at least once), and at light load the running
 * consumer serves several events with one read and one XACK.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PickupEvent } from '../../src/core/events.js';
import { EventStream } from '../../src/store/event-stream.js';
import type { ClientIdentity } from '../../src/service/types.js';
import { AUTHORITY, createWorld, notice, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

describe('event stream batches', () => {
  let world: TestWorld;
  let stream: EventStream;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(async () => {
    await stream.stop();
    await world.close();
  });

  it('gives a batch subscriber the events of a read at once, in order, and again whole when it failed', async () => {
    stream = new EventStream({ redis: world.dokubox.redis, ns: world.config.REDIS_KEY_PREFIX, logger: world.dokubox.logger, retryDelayMs: 1 });
    const batches: string[][] = [];
    let failures = 1;
    stream.subscribeBatch('batched', async (events: PickupEvent[]) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('store unreachable');
      }
      batches.push(events.map((e) => `${e.pickupId.slice(0, 4)}:${e.seq}:${e.to}`));
    });
    await stream.init();
    const { service } = world.dokubox;
    const { pickup } = await service.submitNotice(caseSystem, notice());
    await service.markLoaded(pickup.id, 'staff:s1');
    const other = await service.submitNotice(caseSystem, notice());
    expect(await stream.drain()).toBe(0);
    expect(batches).toEqual([]);
    expect(await stream.drain()).toBe(3);
    expect(batches).toEqual([[`${pickup.id.slice(0, 4)}:1:reserved`, `${pickup.id.slice(0, 4)}:2:loaded`, `${other.pickup.id.slice(0, 4)}:1:reserved`]]);
    expect(await stream.drain()).toBe(0);
  });

  it('at light load serves several events with one read and one acknowledgement', async () => {
    stream = new EventStream({ redis: world.dokubox.redis, ns: world.config.REDIS_KEY_PREFIX, logger: world.dokubox.logger, batchWindowMs: 1000, heartbeatMs: 60_000 });
    const reads: number[] = [];
    stream.subscribeBatch('counted', async (events) => {
      reads.push(events.length);
    });
    await stream.init();
    stream.start();
    const { service } = world.dokubox;
    // The first notice wakes the blocked read; the next four arrive within the window after it.
    await service.submitNotice(caseSystem, notice());
    const deadline = Date.now() + 5000;
    while (reads.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 4; i++) await service.submitNotice(caseSystem, notice());
    while (reads.reduce((a, b) => a + b, 0) < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(reads.reduce((a, b) => a + b, 0)).toBe(5);
    expect(reads).toEqual([1, 4]);
  });
});
