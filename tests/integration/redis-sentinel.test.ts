/**
 * Sentinel failover during ingest, with the service as a real child process:
 * a primary, two replicas and three sentinels (quorum 2, short timeouts); the
 * service finds the primary through the sentinels and waits for one replica
 * per notice (WAIT). A few hundred notices arrive at once over REST and SOAP;
 * the primary is killed (kill -9) in the middle. After the failover every
 * acknowledged notice is on the promoted primary, and the same process,
 * never restarted, accepts the resends and new notices.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrivateRedis } from '../../src/cli/redis-server.js';
import { AUTHORITY } from '../support/harness.js';
import { accepted, answerSummary, caseSystemClientsEnv, contractViolations, dishonestAnswers, inParallel, noticeCases, resendUntilAccepted, send } from '../support/ingest-driver.js';
import { replicationInfo, sentinelPrimaryPort, startPrimary, startReplica, startSentinels, until, type Sentinel } from '../support/redis-processes.js';
import { instanceEnv, startServiceProcess, type ServiceProcess } from '../support/service-process.js';

const NOTICES = 300;
const KILL_AFTER = 100;
const MASTER = 'dokubox-test';

let primary: PrivateRedis;
const replicas: PrivateRedis[] = [];
let sentinels: Sentinel[] = [];
let service: ServiceProcess;
let env: Record<string, string>;

beforeAll(async () => {
  primary = await startPrimary();
  for (let i = 0; i < 2; i += 1) replicas.push(await startReplica(primary.port));
  sentinels = await startSentinels(primary.port, { name: MASTER, count: 3, quorum: 2, replicas: 2, downAfterMs: 1000, failoverTimeoutMs: 2000 });
  env = instanceEnv('', {
    REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    REDIS_SENTINEL_NAME: MASTER,
    REDIS_WAIT_TIMEOUT_MS: '500',
    CASE_SYSTEM_CLIENTS: caseSystemClientsEnv(AUTHORITY),
  });
  service = await startServiceProcess(env);
}, 60_000);

/** Role and links of every node, and whom each sentinel calls primary: for failure messages. */
async function topology(): Promise<Record<string, unknown>> {
  const nodes: Record<string, unknown> = {};
  for (const node of [primary, ...replicas]) {
    try {
      const info = await replicationInfo(node.port);
      nodes[node.port] = { role: info.role, master_port: info.master_port, link: info.master_link_status, replicas: info.connected_slaves, offset: info.master_repl_offset };
    } catch (error) {
      nodes[node.port] = error instanceof Error ? error.message : 'unreachable';
    }
  }
  const views = await Promise.all(sentinels.map((s) => sentinelPrimaryPort(s.port, MASTER).catch(() => -1)));
  return { nodes, sentinels: views };
}

afterAll(async () => {
  try {
    await service?.stop();
  } finally {
    for (const s of sentinels) await s.stop();
    for (const r of replicas) await r.stop();
    await primary?.stop();
  }
});

describe('Sentinel failover during ingest', () => {
  it('keeps every acknowledged notice on the promoted primary and the same process accepts notices afterwards', async () => {
    const pid = service.pid();
    const cases = noticeCases(NOTICES);

    // Phase 1: all notices at once; the primary dies after the first KILL_AFTER answers.
    let answered = 0;
    let killed: Promise<void> | undefined;
    await inParallel(cases, 16, async (c) => {
      await send(service.url, c);
      answered += 1;
      if (answered === KILL_AFTER) killed = primary.kill();
    });
    await killed;
    // Acknowledged by the old primary (before it died, or in flight while it died).
    const acknowledgedByOldPrimary = cases.filter((c) => accepted(c.answers[0] as never));
    expect(acknowledgedByOldPrimary.length).toBeGreaterThanOrEqual(KILL_AFTER - 16);
    expect(acknowledgedByOldPrimary.length).toBeLessThan(NOTICES);

    // Phase 2: the sentinels promote a replica and point the other one at it.
    const promoted = await until('a replica to be promoted', async () => {
      const port = await sentinelPrimaryPort(sentinels[0]!.port, MASTER);
      return port !== primary.port && (await replicationInfo(port)).role === 'master' ? port : undefined;
    }, 20_000);
    await until('the other replica to follow the promoted primary', async () => Number((await replicationInfo(promoted)).connected_slaves) >= 1, 20_000);

    // Phase 3: the case system resends every notice with its message id until it is accepted.
    const deadline = performance.now() + 30_000;
    await inParallel(cases, 16, async (c) => {
      await resendUntilAccepted(service.url, c, { deadline, pauseMs: 50 });
    });

    // On failure: the answers, the topology, and what the service logged (warnings and errors).
    const situation = async (): Promise<string> => `${JSON.stringify({ answers: answerSummary(cases), promoted, topology: await topology() })}\nservice log:\n${service.output().slice(-4000)}`;
    expect(dishonestAnswers(cases)).toEqual([]);
    expect(contractViolations(cases)).toEqual([]);
    expect(cases.filter((c) => !accepted(c.answers.at(-1) as never)).length, await situation()).toBe(0);

    const admin = new Redis({ port: promoted, host: '127.0.0.1' });
    try {
      const prefix = env.REDIS_KEY_PREFIX as string;
      // What was acknowledged before the primary died had reached a replica, and the promoted one has it.
      const lost = [];
      for (const c of acknowledgedByOldPrimary) if ((await admin.get(`${prefix}:msg:${AUTHORITY}:${c.input.messageId}`)) === null) lost.push(c.input.messageId);
      expect(lost).toEqual([]);
      for (const c of acknowledgedByOldPrimary) expect(c.answers.find((a, i) => i > 0 && accepted(a))?.outcome, c.input.messageId).toBe('duplicate');
      // Every notice exactly once.
      const pickups = new Map<string, number>();
      for (const key of await admin.keys(`${prefix}:pickup:*`)) {
        const messageId = await admin.hget(key, 'messageId');
        if (messageId !== null) pickups.set(messageId, (pickups.get(messageId) ?? 0) + 1);
      }
      for (const c of cases) expect(pickups.get(c.input.messageId), c.input.messageId).toBe(1);
    } finally {
      admin.disconnect();
    }

    // The same process, never restarted, takes a new notice.
    expect(service.pid()).toBe(pid);
    const [fresh] = noticeCases(1);
    const answer = await resendUntilAccepted(service.url, fresh!, { deadline: performance.now() + 10_000, pauseMs: 50 });
    // Answered at once it is created; after a 503 (no replica confirmed it in time yet) the first try may
    // have stored it, and the resend then says duplicate, as the contract promises.
    if (fresh!.answers.length === 1) expect(answer, JSON.stringify(fresh!.answers)).toMatchObject({ status: 201, outcome: 'created' });
    else expect(['created', 'duplicate'], JSON.stringify(fresh!.answers)).toContain(answer.outcome);
  }, 90_000);
});
