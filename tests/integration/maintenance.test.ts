import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Maintenance } from '../../src/jobs/maintenance.js';
import type { ClientIdentity } from '../../src/service/types.js';
import { AUTHORITY, createWorld, notice, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

describe('maintenance queue', () => {
  let world: TestWorld;
  let maintenance: Maintenance;
  beforeEach(async () => {
    world = await createWorld();
    const url = world.config.REDIS_URL;
    maintenance = new Maintenance({
      queueConnection: { url, enableOfflineQueue: false },
      workerConnection: { url, maxRetriesPerRequest: null },
      prefix: `${world.config.REDIS_KEY_PREFIX}:bull`,
      service: world.dokubox.service,
      logger: world.dokubox.logger,
      metrics: world.dokubox.metrics,
      sweepIntervalMs: 3_600_000,
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
});
