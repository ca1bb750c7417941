/**
 * What a notice costs in Redis (issue 13), counted, not timed: INFO
 * commandstats of a private redis-server before and after (commands run by
 * scripts included). A new notice is one script call whose reply is the
 * answer; a duplicate reads its stored record inside that same call; the
 * commands of an allocation do not depend on how many compartments are free;
 * a box of 10,000 compartments loads and registers in batches.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { callDelta, commandCalls, parseInfo } from '../../bench/efficiency-stats.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/cli/redis-server.js';
import { loadBoxes, MAX_COMPARTMENTS } from '../../src/mappings/loaders.js';
import { SYNC_BOX_CHUNK } from '../../src/store/pickup-store.js';
import type { ClientIdentity } from '../../src/service/types.js';
import { AUTHORITY, createWorld, notice, type TestWorld } from '../support/harness.js';

const client: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };
const BIG = 10_000;

function bigBoxYaml(): string {
  const lines = [
    'id: big',
    `authority: ${AUTHORITY}`,
    'name: A very large box',
    'location: Testweg 2',
    'timeZone: Europe/Berlin',
    'holidayState: ST',
    'openingHours:',
    '  mon: ["08:00-19:30"]',
    'front: { columns: 100, rows: 100 }',
    'compartments:',
  ];
  for (let i = 1; i <= BIG; i++) lines.push(`  - { id: "C${i}", size: S, heightCm: ${(i % 19) * 10}, accessible: ${i % 10 === 0} }`);
  return `${lines.join('\n')}\n`;
}

describe('the Redis cost of a notice', () => {
  let redis: PrivateRedis;
  let probe: Redis;
  let world: TestWorld;
  let boxesDir: string;

  /** Redis commands (by name, eval and evalsha counted as one) that `work` causes. */
  async function commandsOf(work: () => Promise<unknown>): Promise<Map<string, number>> {
    const before = commandCalls(parseInfo(await probe.info('commandstats')));
    await work();
    const delta = callDelta(before, commandCalls(parseInfo(await probe.info('commandstats'))));
    delta.delete('info');
    const scripts = (delta.get('eval') ?? 0) + (delta.get('evalsha') ?? 0);
    delta.delete('eval');
    delta.delete('evalsha');
    if (scripts > 0) delta.set('script', scripts);
    return delta;
  }

  const total = (calls: Map<string, number>): number => [...calls.values()].reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    boxesDir = mkdtempSync(join(tmpdir(), 'dokubox-boxes-'));
    copyFileSync('tests/fixtures/boxes/md-foyer.yaml', join(boxesDir, 'md-foyer.yaml'));
    copyFileSync('tests/fixtures/boxes/small.yaml', join(boxesDir, 'small.yaml'));
    writeFileSync(join(boxesDir, 'big.yaml'), bigBoxYaml());
    redis = await startPrivateRedis();
    probe = new Redis(redis.url);
    world = await createWorld({ env: { REDIS_URL: redis.url, BOXES_DIR: boxesDir } });
    // Every script once on the command connection (ioredis sends EVAL the first time, EVALSHA after).
    await world.dokubox.service.submitNotice(client, notice());
    // What the start-up still writes in the background (heartbeats, registrations) is not a notice's cost.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    probe?.disconnect();
    await redis?.stop();
    rmSync(boxesDir, { recursive: true, force: true });
  });

  it('answers a new notice from the ingest script alone: one call, no reads after it, and the answer is what a read shows', async () => {
    let result: Awaited<ReturnType<typeof world.dokubox.service.submitNotice>> | undefined;
    const calls = await commandsOf(async () => {
      result = await world.dokubox.service.submitNotice(client, notice());
    });
    expect(calls.get('script')).toBe(1);
    for (const read of ['hgetall', 'lrange', 'hmget', 'get']) expect(calls.has(read)).toBe(false);
    // Claim, waiting check, allocation, record, pii, indexes, event, history, state count, day count: 14 with the
    // script call (it was 35); the box is asked for only when nothing else shows that Redis knows it.
    expect(total(calls)).toBeLessThanOrEqual(14);
    for (const gone of ['exists', 'persist', 'zadd']) expect(calls.has(gone), gone).toBe(false);
    expect(result?.outcome).toBe('created');
    expect(result?.pickup).toEqual(await world.dokubox.service.getPickup(client, { pickupId: result?.pickup.id ?? '' }));
  });

  it('costs at most 15 commands per notice all told, with what the outbox consumers do for it afterwards', async () => {
    const N = 20;
    const calls = await commandsOf(async () => {
      for (let i = 0; i < N; i += 1) await world.dokubox.service.submitNotice(client, notice());
      await world.dokubox.events.drain();
    });
    // The notice was counted by the ingest: no statistics marker, nothing counted for it afterwards.
    for (const gone of ['hsetnx', 'expire']) expect(calls.has(gone), gone).toBe(false);
    expect(total(calls) / N).toBeLessThanOrEqual(15);
  });

  it('answers a duplicate from the same script call, with the stored record and history', async () => {
    const first = notice();
    const created = await world.dokubox.service.submitNotice(client, first);
    let again: Awaited<ReturnType<typeof world.dokubox.service.submitNotice>> | undefined;
    const calls = await commandsOf(async () => {
      again = await world.dokubox.service.submitNotice(client, first);
    });
    expect(calls.get('script')).toBe(1);
    expect(total(calls)).toBeLessThanOrEqual(5);
    expect(again?.outcome).toBe('duplicate');
    expect(again?.pickup).toEqual(created.pickup);
    expect(again?.pickup).toEqual(await world.dokubox.service.getPickup(client, { pickupId: created.pickup.id }));
  });

  it('allocates with the same commands whether 10,000 or 3 compartments are free (O(1) in free compartments)', async () => {
    const inBig = await commandsOf(() => world.dokubox.service.submitNotice(client, notice({ boxId: 'big' })));
    const inSmall = await commandsOf(() => world.dokubox.service.submitNotice(client, notice({ boxId: 'small' })));
    expect(await probe.zcard(`${world.config.REDIS_KEY_PREFIX}:box:big:free:std`)).toBeGreaterThan(8000);
    expect([...inBig].sort()).toEqual([...inSmall].sort());
  });

  it('loads a box file of 10,000 compartments and registers it in batches of script calls in one round trip', async () => {
    const boxes = loadBoxes(boxesDir);
    const big = boxes.get('big');
    expect(big?.compartments).toHaveLength(BIG);
    expect(MAX_COMPARTMENTS).toBeGreaterThanOrEqual(BIG);
    const listed = await world.dokubox.store.listCompartments(big!);
    expect(listed).toHaveLength(BIG);
    expect(listed.filter((c) => c.state === 'free').length).toBeGreaterThanOrEqual(BIG - 2);
    let count = 0;
    const calls = await commandsOf(async () => {
      count = await world.dokubox.store.syncBox(big!);
    });
    expect(count).toBe(BIG);
    expect(calls.get('script')).toBe(Math.ceil(BIG / SYNC_BOX_CHUNK));
    // Registering again changes nothing: held compartments stay held.
    expect((await world.dokubox.store.listCompartments(big!)).filter((c) => c.state !== 'free').length).toBeGreaterThanOrEqual(1);
  });
});
