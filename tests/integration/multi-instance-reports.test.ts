/**
 * Three real service processes behind a balancer, one Redis, the simulated
 * case system and SMS gateway; a few hundred pickups go through reserved,
 * loaded, notified, SMS delivered and collected while instances are killed
 * with SIGKILL and restarted. Afterwards every pickup's status reports have
 * reached the case system completely, each event id at least once, and in
 * seq order per pickup (repeats included); no pickup got a second ready SMS.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { startCallbackServer, type CallbackServer, type RecordedReport } from '../../simulator/case-system/callback-server.js';
import { startSevenSimulator, type SevenSimulator } from '../../simulator/sms-gateway/seven-server.js';
import { startBalancer, type Balancer } from '../../simulator/balancer.js';
import { AUTHORITY, BOX, KEYS, notice } from '../support/harness.js';
import { instanceEnv, startServiceProcess, type ServiceProcess } from '../support/service-process.js';

const PICKUPS = 240;
const CONCURRENCY = 16;
const WEBHOOK_SECRET = 'multi-instance-webhook-secret-0001';
const REPORTED_SMS = new Set(['sms_failed', 'sms_delivered', 'sms_undeliverable', 'reminder_sent']);

interface HistoryEntry {
  seq: number;
  from: string | null;
  to: string;
  reason: string;
}

let callback: CallbackServer;
let seven: SevenSimulator;
let balancer: Balancer;
let env: Record<string, string>;
const instances: ServiceProcess[] = [];

beforeAll(async () => {
  callback = await startCallbackServer();
  seven = await startSevenSimulator({ signingSecret: WEBHOOK_SECRET });
  balancer = await startBalancer(() => instances.filter((i) => i.running()).map((i) => i.url));
  const webhook = `${balancer.url}/sms/v1/seven/webhook`;
  seven.setWebhookUrl(webhook);
  env = instanceEnv(inject('redisUrl'), {
    CASE_SYSTEM_CALLBACKS: JSON.stringify({ [AUTHORITY]: { url: callback.url, timeoutMs: 3000 } }),
    CASE_SYSTEM_REPORT_BACKOFF_MS: '200',
    SMS_GATEWAY: 'dev',
    SMS_DEV_URL: seven.url,
    SEVEN_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SEVEN_WEBHOOK_PUBLIC_URL: webhook,
    SMS_RATE_LIMIT: '1000',
    SMS_BACKOFF_BASE_MS: '200',
  });
  for (let i = 0; i < 3; i += 1) instances.push(await startServiceProcess(env));
}, 60_000);

afterAll(async () => {
  await Promise.all(instances.map((i) => i.stop()));
  await balancer?.close();
  await seven?.close();
  await callback?.close();
  const redis = new Redis(inject('redisUrl'));
  const keys = await redis.keys(`${env.REDIS_KEY_PREFIX}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
}, 60_000);

/** A client that resends until it gets a real answer, as the at-least-once contract asks (balancer 502/503, our 503). */
async function call(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await fetch(`${balancer.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (response.status === 502 || response.status === 503) throw new Error(`retryable ${response.status}`);
      return { status: response.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
    } catch (error) {
      if (attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50)); // pacing of a retrying client, not a wait for a condition
    }
  }
}

async function stateOf(pickupId: string): Promise<string> {
  return String((await call('GET', `/v1/pickups/${pickupId}`, KEYS.caseSystem)).json.state);
}

/** Whether `promise` settled within `ms` (a deadline for a condition, not a sleep). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

const reportsOf = (reports: readonly RecordedReport[], pickupId: string): RecordedReport[] => reports.filter((r) => r.pickupId === pickupId);

/** Kills one instance at a time (SIGKILL) and starts it again on the same port. */
class Chaos {
  kills = 0;
  private running: Promise<void> = Promise.resolve();
  strike(): void {
    this.running = this.running.then(async () => {
      const victim = instances[this.kills % instances.length] as ServiceProcess;
      this.kills += 1;
      await victim.kill();
      await victim.restart();
    });
  }
  done(): Promise<void> {
    return this.running;
  }
}

describe('several instances, kill -9 during the run', () => {
  it('delivers every pickup’s reports to the case system completely and strictly in seq order per pickup', async () => {
    const chaos = new Chaos();
    const milestones = new Set([20, 70, 130, 190, 230]);
    const pickups: string[] = [];
    let started = 0;
    let finished = 0;
    const undelivered: string[] = [];

    const lifecycle = async (): Promise<void> => {
      for (;;) {
        const i = started;
        if (i >= PICKUPS) return;
        started += 1;
        if (milestones.has(i)) chaos.strike();
        const input = notice();
        const created = await call('POST', '/v1/notices', KEYS.caseSystem, input);
        expect(created.status, JSON.stringify(created.json)).toBeLessThan(300);
        const pickupId = String((created.json.pickup as { id: string }).id);
        pickups.push(pickupId);

        const loading = await call('POST', `/v1/boxes/${BOX}/loadings`, KEYS.staff, { serialNumber: input.documents[0]?.serialNumber });
        if (loading.status !== 200) expect(['loaded', 'notified'], JSON.stringify(loading.json)).toContain(await stateOf(pickupId));

        // The ready SMS goes out (or, if an instance died while sending it, is reported as failed).
        const told = callback.waitUntil((all) => reportsOf(all, pickupId).some((r) => r.status === 'notified' || r.status === 'smsFailed'));
        if (!(await within(told, 60_000))) throw new Error(`pickup ${pickupId} (${await stateOf(pickupId)}) was never reported notified or smsFailed`);
        if (reportsOf(callback.reports, pickupId).some((r) => r.status === 'smsFailed')) {
          const cancelled = await call('POST', `/v1/pickups/${pickupId}/cancel`, KEYS.caseSystem, {});
          expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
        } else {
          // A delivery report can be lost for good (the gateway gives up when the webhook fails); collect anyway then.
          await within(callback.waitUntil((all) => reportsOf(all, pickupId).some((r) => r.status === 'smsDelivered')), 15_000);
          const collected = await call('POST', `/v1/pickups/${pickupId}/collected`, KEYS.kiosk, {});
          if (collected.status !== 200) expect(await stateOf(pickupId), JSON.stringify(collected.json)).toBe('collected');
        }
        finished += 1;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => lifecycle()));
    await chaos.done();
    expect(finished).toBe(PICKUPS);
    expect(chaos.kills).toBeGreaterThanOrEqual(5);

    // What each pickup's history says the case system must hear.
    const expected = new Map<string, number[]>();
    for (const pickupId of pickups) {
      const view = (await call('GET', `/v1/pickups/${pickupId}`, KEYS.caseSystem)).json as { state: string; history: HistoryEntry[] };
      expect(['collected', 'cancelled']).toContain(view.state);
      expected.set(
        pickupId,
        view.history.filter((h) => h.from !== h.to || REPORTED_SMS.has(h.reason)).map((h) => h.seq),
      );
    }
    const complete = (all: readonly RecordedReport[], p: string): boolean => (expected.get(p) ?? []).every((seq) => all.some((r) => r.pickupId === p && r.seq === seq));
    if (!(await within(callback.waitUntil((all) => pickups.every((p) => complete(all, p))), 60_000))) {
      const missing = pickups.filter((p) => !complete(callback.reports, p));
      throw new Error(`reports missing for ${missing.length} pickups, e.g. ${missing[0]}: expected seqs ${JSON.stringify(expected.get(missing[0] ?? ''))}, got ${JSON.stringify(reportsOf(callback.reports, missing[0] ?? '').map((r) => r.seq))}`);
    }

    for (const pickupId of pickups) {
      const received = reportsOf(callback.reports, pickupId);
      const seqs = received.map((r) => r.seq);
      // Complete, each event id at least once, nothing that is not in the history.
      expect([...new Set(seqs)].sort((a, b) => a - b)).toEqual(expected.get(pickupId));
      expect(new Set(received.map((r) => r.eventId))).toEqual(new Set((expected.get(pickupId) ?? []).map((seq) => `${pickupId}:${seq}`)));
      // Strictly in order: a report never arrives after a later one (a repeat comes before the next report).
      expect(seqs, `reports of ${pickupId} out of order`).toEqual([...seqs].sort((a, b) => a - b));
      const statuses = received.map((r) => r.status);
      if (statuses.includes('smsDelivered')) expect(statuses.indexOf('notified')).toBeLessThan(statuses.indexOf('smsDelivered'));
      // One ready SMS per pickup, however often instances died.
      expect(Object.values(seven.inbox.all()).flat().filter((m) => m.foreignId === `${pickupId}.ready`).length).toBeLessThanOrEqual(1);
      if (!statuses.includes('smsDelivered')) undelivered.push(pickupId);
    }
    // Pickups whose ready SMS was cut off by a kill are the only ones without a delivery report.
    expect(undelivered.length).toBeLessThan(PICKUPS / 10);
  }, 240_000);
});
