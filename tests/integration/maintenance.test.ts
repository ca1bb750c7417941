import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TimelineChanges, TimelineState } from '../../src/core/clock.js';
import { clockSweepJobId, Maintenance } from '../../src/jobs/maintenance.js';
import type { ClientIdentity } from '../../src/service/types.js';
import { AUTHORITY, createWorld, notice, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

/** A time line that changes when the test says (the world clock's part that the sweep follows). */
class TestTimeline implements TimelineChanges {
  private current: TimelineState = { simAnchor: Date.parse('2026-03-02T09:00:00Z'), realAnchor: 0, speed: 1, version: 0 };
  private readonly listeners = new Set<(state: TimelineState) => void>();

  state(): TimelineState {
    return this.current;
  }

  onChange(listener: (state: TimelineState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  change(speed: number): TimelineState {
    this.current = { ...this.current, speed, version: this.current.version + 1 };
    for (const listener of this.listeners) listener(this.current);
    return this.current;
  }
}

describe('maintenance queue', () => {
  let world: TestWorld;
  let maintenance: Maintenance;
  let timeline: TestTimeline;
  beforeEach(async () => {
    world = await createWorld();
    timeline = new TestTimeline();
    const url = world.config.REDIS_URL;
    maintenance = new Maintenance({
      queueConnection: { url, enableOfflineQueue: false },
      workerConnection: { url, maxRetriesPerRequest: null },
      prefix: `${world.config.REDIS_KEY_PREFIX}:bull`,
      service: world.dokubox.service,
      logger: world.dokubox.logger,
      metrics: world.dokubox.metrics,
      sweepIntervalMs: 3_600_000,
      timeline,
    });
  });
  afterEach(async () => {
    await maintenance.close();
    await maintenance.queue.obliterate({ force: true }).catch(() => undefined);
    await world.close();
  });

  it('expires overdue pickups in a scheduled BullMQ job and logs one line for the job', async () => {
    const { service } = world.dokubox;
    const { pickup } = await service.submitNotice(caseSystem, notice());
    await service.markLoaded(pickup.id, 'staff:s');
    await service.markNotified(pickup.id);
    world.clock.advance(30 * 86_400_000);
    await maintenance.start();
    const [job, result] = (await once(maintenance.worker!, 'completed')) as [{ name: string }, { expired: number }];
    expect(job.name).toBe('expiry-sweep');
    expect(result).toEqual({ expired: 1, reminders: 0 });
    expect((await world.dokubox.store.get(pickup.id))?.state).toBe('expired');
    expect(world.logs.filter((l) => l.includes('"job completed"'))).toHaveLength(1);
  });

  it('follows a simulated clock: sweeps right after each change, once, and at an interval that shrinks with the speed', async () => {
    const { service } = world.dokubox;
    await maintenance.start();
    await once(maintenance.worker!, 'completed'); // the scheduler's first sweep
    const every = async () => (await maintenance.queue.getJobScheduler('expiry-sweep'))?.every;
    expect(await every()).toBe(3_600_000);

    const { pickup } = await service.submitNotice(caseSystem, notice());
    await service.markLoaded(pickup.id, 'staff:s');
    await service.markNotified(pickup.id);
    world.clock.advance(30 * 86_400_000);
    const completed: { id: string | undefined; result: unknown }[] = [];
    let waiter: { id: string; resolve: () => void } | undefined;
    maintenance.worker!.on('completed', (job, result) => {
      completed.push({ id: job.id, result });
      if (waiter !== undefined && job.id === waiter.id) waiter.resolve();
    });
    const sweptAfter = (state: TimelineState) => new Promise<void>((resolve) => (waiter = { id: clockSweepJobId(state), resolve }));

    const first = timeline.change(3600);
    const firstSwept = sweptAfter(first);
    // A second instance hears the same change: the job id makes it one sweep.
    await maintenance.afterClockChange(first);
    await firstSwept;
    await maintenance.settled();
    expect(await every()).toBe(1000);

    const second = timeline.change(100_000);
    const secondSwept = sweptAfter(second);
    await maintenance.settled();
    await secondSwept;
    expect(completed.filter((c) => c.id === clockSweepJobId(first)).map((c) => c.result)).toEqual([{ expired: 1, reminders: 0 }]);
    expect(await every()).toBe(500);
    timeline.change(0);
    await maintenance.settled();
    expect(await every()).toBe(3_600_000);
  });
});
