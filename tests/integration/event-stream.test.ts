import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PickupEvent } from '../../src/core/events.js';
import { EventStream } from '../../src/store/event-stream.js';
import type { ClientIdentity } from '../../src/service/types.js';
import { AUTHORITY, createWorld, notice, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

describe('event stream', () => {
  let world: TestWorld;
  let stream: EventStream;
  beforeEach(async () => {
    world = await createWorld();
    stream = new EventStream({ redis: world.dokubox.redis, ns: world.config.REDIS_KEY_PREFIX, logger: world.dokubox.logger, retryDelayMs: 1 });
  });
  afterEach(async () => {
    await stream.stop();
    await world.close();
  });

  it('delivers every state change once, in order, with time, actor and no personal data', async () => {
    const seen: PickupEvent[] = [];
    stream.subscribe('reports', async (e) => {
      seen.push(e);
    });
    await stream.init();
    const { service } = world.dokubox;
    const { pickup } = await service.submitNotice(caseSystem, notice());
    await service.markLoaded(pickup.id, 'staff:s1');
    world.clock.advance(60_000);
    await service.markNotified(pickup.id);
    expect(await stream.drain()).toBe(3);
    expect(seen.map((e) => [e.seq, e.from, e.to, e.reason])).toEqual([
      [1, null, 'reserved', 'notice_received'],
      [2, 'reserved', 'loaded', 'staff_loaded'],
      [3, 'loaded', 'notified', 'sms_accepted'],
    ]);
    expect(seen[2]).toMatchObject({ eventId: `${pickup.id}:3`, messageId: pickup.messageId, at: '2026-03-02T09:01:00.000Z', actor: 'system' });
    expect(JSON.stringify(seen)).not.toMatch(/Abdullahi|1991-04-17|15123456789/);
    expect(await stream.drain()).toBe(0);
  });

  it('redelivers an event whose handler failed and keeps later events behind it', async () => {
    const seen: string[] = [];
    let failures = 1;
    stream.subscribe('flaky', async (e) => {
      if (e.seq === 1 && failures > 0) {
        failures -= 1;
        throw new Error('case system unreachable');
      }
      seen.push(`${e.seq}:${e.to}`);
    });
    await stream.init();
    const { service } = world.dokubox;
    const { pickup } = await service.submitNotice(caseSystem, notice());
    await service.cancelPickup(caseSystem, { pickupId: pickup.id }, 'cancelled_by_case_system');
    expect(await stream.drain()).toBe(0);
    expect(seen).toEqual([]);
    expect(await stream.drain()).toBe(2);
    expect(seen).toEqual(['1:reserved', '2:cancelled']);
  });

  it('delivers to a running background subscriber', async () => {
    const received = new Promise<PickupEvent>((resolve) => {
      stream.subscribe('live', async (e) => resolve(e));
    });
    await stream.init();
    stream.start();
    await world.dokubox.service.submitNotice(caseSystem, notice());
    expect((await received).to).toBe('reserved');
  });
});
