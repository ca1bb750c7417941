import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORITY, BOX, createWorld, notice, type TestWorld } from '../support/harness.js';
import type { ClientIdentity } from '../../src/service/types.js';

const client: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

describe('compartment allocation under concurrency', () => {
  const worlds: TestWorld[] = [];

  beforeAll(async () => {
    const first = await createWorld();
    worlds.push(first);
    // Three more service instances on their own Redis connections, same data.
    for (let i = 0; i < 3; i += 1) worlds.push(await createWorld({ config: first.config }));
  });

  afterAll(async () => {
    for (const w of worlds.slice(1).reverse()) await w.dokubox.close();
    await worlds[0]?.close();
  });

  it('reserves exactly 456 of 1,000 concurrent notices, queues 544, never gives a compartment twice, and serves the oldest waiting first', async () => {
    const notices = Array.from({ length: 1000 }, () => notice());
    const results = await Promise.all(notices.map((n, i) => worlds[i % 4]!.dokubox.service.submitNotice(client, n)));

    const reserved = results.filter((r) => r.pickup.state === 'reserved');
    const waiting = results.filter((r) => r.pickup.state === 'waiting');
    expect(reserved).toHaveLength(456);
    expect(waiting).toHaveLength(544);
    expect(new Set(reserved.map((r) => r.pickup.compartment)).size).toBe(456);

    const { store, boxes } = worlds[0]!.dokubox;
    const compartments = await store.listCompartments(boxes.get(BOX)!);
    expect(compartments.filter((c) => c.state === 'free')).toHaveLength(0);
    const queue = await store.waitingList(BOX);
    expect(queue).toHaveLength(544);
    expect(new Set(queue)).toEqual(new Set(waiting.map((w) => w.pickup.id)));

    // Free ten compartments: the ten oldest waiting pickups get them.
    const toCancel = reserved.slice(0, 10);
    const freed = new Set(toCancel.map((r) => r.pickup.compartment));
    await Promise.all(toCancel.map((r, i) => worlds[i % 4]!.dokubox.service.cancelPickup(client, { pickupId: r.pickup.id }, 'cancelled_by_case_system')));

    const oldest = queue.slice(0, 10);
    for (const id of oldest) {
      const pickup = await store.get(id);
      expect(pickup?.state).toBe('reserved');
      expect(freed.has(pickup?.compartment ?? '')).toBe(true);
    }
    expect(await store.waitingList(BOX)).toEqual(queue.slice(10));
    const after = await store.listCompartments(boxes.get(BOX)!);
    const holders = after.filter((c) => c.pickupId !== null).map((c) => c.pickupId);
    expect(new Set(holders).size).toBe(holders.length);
  });
});

describe('accessible compartments', () => {
  let world: TestWorld;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => world.close());

  const submit = (accessible: boolean) => world.dokubox.service.submitNotice(client, notice({ boxId: 'small', accessible }));

  it('gives accessible pickups the lowest accessible compartment and keeps others out of them while higher ones are free', async () => {
    const a = await submit(true);
    expect(a.pickup.compartment).toBe('A2');
    const b = await submit(false);
    const c = await submit(false);
    expect([b.pickup.compartment, c.pickup.compartment].sort()).toEqual(['A1', 'A4']);
    // Only A3 (accessible) is left; a non-accessible pickup may now use it.
    const d = await submit(false);
    expect(d.pickup.compartment).toBe('A3');
    const e = await submit(true);
    expect(e.pickup.state).toBe('waiting');
  });

  it('never allocates a compartment marked defective until it is repaired', async () => {
    const fresh = await createWorld();
    try {
      const staff: ClientIdentity = { id: 's', role: 'staff', authority: AUTHORITY };
      for (const id of ['A1', 'A2', 'A3']) await fresh.dokubox.service.compartmentAction(staff, 'small', id, 'defective');
      const first = await fresh.dokubox.service.submitNotice(client, notice({ boxId: 'small', accessible: true }));
      expect(first.pickup.compartment).toBe('A4');
      const second = await fresh.dokubox.service.submitNotice(client, notice({ boxId: 'small' }));
      expect(second.pickup.state).toBe('waiting');
      await fresh.dokubox.service.compartmentAction(staff, 'small', 'A3', 'repaired');
      const served = await fresh.dokubox.store.get(second.pickup.id);
      expect(served).toMatchObject({ state: 'reserved', compartment: 'A3' });
    } finally {
      await fresh.close();
    }
  });
});

describe('a compartment whose door jammed with the document inside', () => {
  it('stays out of allocation when staff mark it repaired, and serves the waiting only once staff took the document out', async () => {
    const world = await createWorld();
    try {
      const { service, store } = world.dokubox;
      const staff: ClientIdentity = { id: 's', role: 'staff', authority: AUTHORITY };
      const jammed = await service.submitNotice(client, notice({ boxId: 'small' }));
      const compartment = jammed.pickup.compartment as string;
      await service.markLoaded(jammed.pickup.id, 'staff:s');
      // The door did not open at pickup: the document is inside, the compartment defective.
      await service.markFault(jammed.pickup.id, 'door_did_not_open', 'locker:small');
      // Staff repair the lock, so that the door opens for them to take the document out.
      await service.compartmentAction(staff, 'small', compartment, 'repaired');
      expect(await store.occupantOf('small', compartment)).toEqual({ kind: 'holder', pickupId: jammed.pickup.id });

      // The other three compartments go to new notices; the next one waits instead of getting the jammed one.
      const others = [];
      for (let i = 0; i < 3; i += 1) others.push(await service.submitNotice(client, notice({ boxId: 'small', accessible: i > 0 })));
      expect(others.map((o) => o.pickup.compartment)).not.toContain(compartment);
      const next = await service.submitNotice(client, notice({ boxId: 'small' }));
      expect(next.pickup.state).toBe('waiting');

      // Staff took the document out: the pickup goes back to the counter and the compartment serves the waiting.
      await service.finishRetrieval('small', compartment, 'staff:s');
      expect(await store.get(jammed.pickup.id)).toMatchObject({ state: 'returned' });
      expect(await store.get(next.pickup.id)).toMatchObject({ state: 'reserved', compartment });
    } finally {
      await world.close();
    }
  });
});

describe('a box that Redis does not know', () => {
  let world: TestWorld;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => world.close());

  it('refuses a notice for a configured box whose registration Redis lost, stores nothing, and takes the same message once the box is registered again', async () => {
    const ns = world.config.REDIS_KEY_PREFIX;
    const boxKeys = await world.dokubox.redis.keys(`${ns}:box:small:*`);
    expect(boxKeys.length).toBeGreaterThan(0);
    await world.dokubox.redis.del(...boxKeys);
    const message = notice({ boxId: 'small' });
    await expect(world.dokubox.service.submitNotice(client, message)).rejects.toMatchObject({ code: 'UNKNOWN_BOX' });
    expect(await world.dokubox.redis.keys(`${ns}:pickup:*`)).toEqual([]);
    expect(await world.dokubox.redis.keys(`${ns}:msg:*`)).toEqual([]);
    await world.dokubox.store.syncBox(world.dokubox.boxes.get('small')!);
    const created = await world.dokubox.service.submitNotice(client, message);
    expect(created).toMatchObject({ outcome: 'created', pickup: { state: 'reserved' } });
  });
});
