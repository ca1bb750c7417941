/**
 * Redis crashes (kill -9) and comes back during ingest, with the service as a
 * real child process: a few hundred notices arrive at once over REST and
 * SOAP 1.1/1.2, Redis dies in the middle and restarts from its AOF
 * (appendfsync always: every acknowledged write is on disk). No answer is a
 * 500; every refusal is a retryable 503; every notice that was accepted is
 * stored exactly once; resending each notice with its message id until it is
 * accepted succeeds, with `duplicate` where an earlier attempt had stored it;
 * the process stays up and its background loops recover by themselves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../src/cli/redis-server.js';
import { AUTHORITY } from '../support/harness.js';
import { accepted, answerSummary, caseSystemClientsEnv, contractViolations, dishonestAnswers, inParallel, noticeCases, resendUntilAccepted, send } from '../support/ingest-driver.js';
import { until } from '../support/redis-processes.js';
import { instanceEnv, startServiceProcess, type ServiceProcess } from '../support/service-process.js';

const NOTICES = 300;
const KILL_AFTER = 100;

let dataDir: string;
let redis: PrivateRedis;
let service: ServiceProcess;
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dokubox-restart-'));
  redis = await startPrivateRedis({ dataDir, appendfsync: 'always' });
  env = instanceEnv(redis.url, { CASE_SYSTEM_CLIENTS: caseSystemClientsEnv(AUTHORITY), EXPIRY_SWEEP_INTERVAL_MS: '1000' });
  service = await startServiceProcess(env);
});

afterAll(async () => {
  try {
    await service?.stop();
  } finally {
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Every pickup hash of the test's key prefix, by message id. */
async function pickupsByMessageId(admin: Redis, prefix: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:pickup:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const messageId = await admin.hget(key, 'messageId');
      if (messageId !== null) counts.set(messageId, (counts.get(messageId) ?? 0) + 1);
    }
  } while (cursor !== '0');
  return counts;
}

describe('Redis killed and restarted during ingest', () => {
  it('answers 2xx or a retryable 503, stores every accepted notice exactly once, and accepts every resend', async () => {
    const pid = service.pid();
    const cases = noticeCases(NOTICES);

    // Phase 1: all notices at once; Redis dies after the first KILL_AFTER answers, with requests in flight.
    let answered = 0;
    let killed: Promise<void> | undefined;
    await inParallel(cases, 24, async (c) => {
      await send(service.url, c);
      answered += 1;
      if (answered === KILL_AFTER) killed = redis.kill();
    });
    await killed;
    const refusedDuringOutage = cases.filter((c) => !accepted(c.answers[0] as never)).length;
    expect(refusedDuringOutage).toBeGreaterThan(0);
    const asked = performance.now();
    const readyz = await fetch(`${service.url}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toEqual({ status: 'unavailable', redis: 'unreachable' });
    expect(performance.now() - asked).toBeLessThan(1000); // target 100 ms; generous for a loaded machine

    // Phase 2: Redis restarts from its AOF on the same port; the service finds it by itself.
    redis = await startPrivateRedis({ port: redis.port, dataDir, appendfsync: 'always' });
    await until('the service to be ready again', async () => (await fetch(`${service.url}/readyz`)).status === 200);

    // Phase 3: the case system resends every notice with its message id until it is accepted.
    const deadline = performance.now() + 20_000;
    await inParallel(cases, 24, async (c) => {
      await resendUntilAccepted(service.url, c, { deadline, pauseMs: 50 });
    });

    expect(dishonestAnswers(cases)).toEqual([]);
    expect(contractViolations(cases)).toEqual([]);
    expect(cases.filter((c) => !accepted(c.answers.at(-1) as never)).length, JSON.stringify(answerSummary(cases))).toBe(0);
    // Accepted before the crash: the resend finds it (AOF with fsync always kept it).
    for (const c of cases.filter((c) => accepted(c.answers[0] as never))) expect(c.answers.slice(1).find(accepted)?.outcome, c.input.messageId).toBe('duplicate');

    const admin = new Redis(redis.url);
    try {
      const stored = await pickupsByMessageId(admin, env.REDIS_KEY_PREFIX as string);
      expect(stored.size).toBe(NOTICES);
      for (const c of cases) expect(stored.get(c.input.messageId), c.input.messageId).toBe(1);

      // The same process, and its background loops came back: event subscribers consumed everything, the expiry sweep runs again.
      expect(service.pid()).toBe(pid);
      expect(service.running()).toBe(true);
      let groups: unknown[][] = [];
      await until('every event subscriber to catch up', async () => {
        groups = (await admin.xinfo('GROUPS', `${env.REDIS_KEY_PREFIX}:events`)) as unknown[][];
        return groups.length > 0 && groups.every((g) => {
          const info = Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [String(g[2 * i]), g[2 * i + 1]]));
          return Number(info.pending) === 0 && Number(info.lag) === 0;
        });
      }).catch((error: unknown) => {
        throw new Error(`${error instanceof Error ? error.message : String(error)}\ngroups: ${JSON.stringify(groups)}\nservice log:\n${service.output().slice(-4000)}`);
      });
      const completed = `${env.REDIS_KEY_PREFIX}:bull:maintenance:completed`;
      const sweepsBefore = await admin.zcard(completed);
      await until('the expiry sweep to run again', async () => (await admin.zcard(completed)) > sweepsBefore);
    } finally {
      admin.disconnect();
    }
  }, 90_000);
});
