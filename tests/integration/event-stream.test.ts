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

  it('hands the pending events of a killed instance to a live one at its next housekeeping, without an idle timeout', async () => {
    const ns = world.config.REDIS_KEY_PREFIX;
    const key = `${ns}:events`;
    const { redis, logger } = world.dokubox;
    const killed = new EventStream({ redis, ns, logger, consumer: 'instance-a' });
    const live = new EventStream({ redis, ns, logger, consumer: 'instance-b' });
    const seenByLive: string[] = [];
    killed.subscribe('reports', async () => {
      throw new Error('killed before acknowledging');
    });
    live.subscribe('reports', async (e) => {
      seenByLive.push(e.eventId);
    });
    await killed.init();
    await killed.housekeep();
    const { pickup } = await world.dokubox.service.submitNotice(caseSystem, notice());
    expect(await killed.drain()).toBe(0);
    // The entry has sat in instance-a's pending list for a heartbeat (as it would a second later).
    const [entry] = (await redis.xpending(key, 'reports', '-', '+', 10)) as [string][];
    await redis.xclaim(key, 'reports', 'instance-a', 0, entry?.[0] ?? '', 'IDLE', 1000);
    // While instance-a beats, its entry stays its own.
    expect((await live.housekeep()).claimed).toBe(0);
    expect(await live.drain()).toBe(0);
    // kill -9: nothing renews instance-a's heartbeat key, which expires.
    await redis.del(`${ns}:consumers:instance-a`);
    expect((await live.housekeep()).claimed).toBe(1);
    expect(await live.drain()).toBe(1);
    expect(seenByLive).toEqual([`${pickup.id}:1`]);
    expect(await redis.xpending(key, 'reports')).toEqual([0, null, null, null]);
  });

  it('trims what every subscriber has acknowledged and keeps what one of them still needs', async () => {
    const ns = world.config.REDIS_KEY_PREFIX;
    let failing = true;
    stream.subscribe('fast', async () => undefined);
    stream.subscribe('slow', async (e) => {
      if (failing && e.seq === 2) throw new Error('not yet');
    });
    await stream.init();
    const { service } = world.dokubox;
    const { pickup } = await service.submitNotice(caseSystem, notice());
    await service.markLoaded(pickup.id, 'staff:s1');
    await service.markNotified(pickup.id);
    await world.dokubox.events.drain(); // the product's own subscribers (reports, SMS) are groups too
    await stream.drain();
    expect(await world.dokubox.redis.xlen(`${ns}:events`)).toBe(3);
    expect(await stream.trim()).toBe(1);
    const left = (await world.dokubox.redis.xrange(`${ns}:events`, '-', '+')).map(([, fields]) => (JSON.parse(fields[1] as string) as PickupEvent).seq);
    expect(left).toEqual([2, 3]);
    failing = false;
    await stream.drain();
    expect(await stream.trim()).toBe(2);
    expect(await world.dokubox.redis.xlen(`${ns}:events`)).toBe(0);
    // The pickup's own history, the audit trail, is untouched.
    expect((await service.view(pickup.id)).history).toHaveLength(3);
  });

  it('handles entries left pending for this instance without its knowledge (a read served while the connection dropped)', async () => {
    const ns = world.config.REDIS_KEY_PREFIX;
    const { redis, logger } = world.dokubox;
    const live = new EventStream({ redis, ns, logger, consumer: 'instance-c', trimEveryMs: 0 });
    const seen: string[] = [];
    live.subscribe('reports', async (e) => {
      seen.push(e.eventId);
    });
    await live.init();
    expect(await live.drain()).toBe(0);
    const { pickup } = await world.dokubox.service.submitNotice(caseSystem, notice());
    // Redis delivered the entry to instance-c, but the reply was lost with the connection.
    await redis.xreadgroup('GROUP', 'reports', 'instance-c', 'COUNT', 10, 'STREAMS', `${ns}:events`, '>');
    expect(await live.drain()).toBe(0);
    // The next housekeeping round (also every reconnect) makes it look at its own pending entries again.
    await live.housekeep();
    expect(await live.drain()).toBe(1);
    expect(seen).toEqual([`${pickup.id}:1`]);
  });
});
