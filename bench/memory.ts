/**
 * Redis bytes per live pickup in each state: a private redis-server, the
 * whole service in this process (event stream, report and SMS workers, an
 * in-memory SMS gateway, the simulated case system receiving the reports),
 * N pickups moved through the states together. After each step the system
 * settles (reports delivered, SMS outcomes recorded, the event stream
 * trimmed) and Redis's `used_memory` is read; the figure is the growth over
 * the empty service divided by N. A breakdown by key family shows where the
 * bytes of a notified pickup sit.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemorySmsGateway } from '../adapters/sms/memory/index.js';
import { startPrivateRedis } from '../src/cli/redis-server.js';
import { loadConfig } from '../src/config.js';
import { createDokubox } from '../src/main.js';
import type { ClientIdentity } from '../src/service/types.js';
import { startCallbackServer } from '../simulator/case-system/callback-server.js';

const AUTHORITY = 'magdeburg-abh';
const BOX = 'md-foyer';

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Polls a condition of the running system (a benchmark, not a test). */
async function until(what: string, done: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`memory bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Key families (after the namespace) for the breakdown. */
const FAMILIES: [string, RegExp][] = [
  ['BullMQ event logs (capped, not per pickup)', /^bull:[^:]+:events$/],
  ['pickup hash', /^pickup:/],
  ['sealed personal data', /^pii:/],
  ['reminders', /^reminders$/],
  ['history (audit trail)', /^history:/],
  ['message-id idempotency', /^msg:/],
  ['event stream', /^events$/],
  ['SMS jobs (BullMQ)', /^bull:sms:(?!sms:)/],
  ['SMS state records', /^bull:sms:sms:state:/],
  ['SMS gateway message index', /^bull:sms:sms:msg:/],
  ['report jobs (BullMQ)', /^bull:case-system-reports:/],
  ['box indexes (codes, serials, holders, free)', /^box:/],
  ['deadlines', /^deadlines$/],
];

async function familySizes(redis: Redis, ns: string): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${ns}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const rest = key.slice(ns.length + 1);
      const family = FAMILIES.find(([, pattern]) => pattern.test(rest))?.[0] ?? 'other';
      sums.set(family, (sums.get(family) ?? 0) + Number((await redis.memory('USAGE', key)) ?? 0));
    }
  } while (cursor !== '0');
  return sums;
}

const CAPPED = FAMILIES[0]?.[0] ?? '';

export async function benchMemory(options: { pickups?: number } = {}): Promise<string[]> {
  const n = options.pickups ?? 400;
  const server = await startPrivateRedis();
  const callback = await startCallbackServer();
  const gateway = new MemorySmsGateway();
  const ns = `mem-${randomBytes(3).toString('hex')}`;
  const config = loadConfig({
    REDIS_URL: server.url,
    REDIS_KEY_PREFIX: ns,
    PORT: '0',
    LOG_LEVEL: 'silent',
    SECRET_KEY: randomBytes(32).toString('base64'),
    PII_KEY: randomBytes(32).toString('base64'),
    LOCKERS_ENABLED: 'false',
    SMS_QUIET_HOURS: 'off',
    SMS_RATE_LIMIT: '1000',
    CASE_SYSTEM_CALLBACKS: JSON.stringify({ [AUTHORITY]: { url: callback.url } }),
  });
  const dokubox = await createDokubox(config, { smsGateway: gateway });
  const admin = new Redis(server.url);
  const client: ClientIdentity = { id: 'bench', role: 'case-system', authority: AUTHORITY };
  const lines: string[] = [];
  try {
    await dokubox.listen();
    /** Lets the system settle and returns used_memory without BullMQ's capped event logs (a constant, not per pickup). */
    const settle = async (reports: number): Promise<number> => {
      await callback.waitForReports(reports);
      await until('queues to empty', async () => (await dokubox.reports.counts()).jobs === 0);
      await until('the event stream to be trimmed', async () => {
        await dokubox.events.trim();
        return (await admin.xlen(`${ns}:events`)) === 0;
      });
      return (await usedMemory(admin)) - ((await familySizes(admin, ns)).get(CAPPED) ?? 0);
    };
    const base = await settle(0);
    const perPickup = (bytes: number, count = n): number => Math.round((bytes - base) / count);

    const ids: string[] = [];
    const serials: string[] = [];
    for (let i = 0; i < n; i += 1) {
      const serial = `M${String(i).padStart(9, '0')}`;
      serials.push(serial);
      const { pickup } = await dokubox.service.submitNotice(client, {
        messageId: `mem-${i}`,
        authority: AUTHORITY,
        caseNumber: `AZ-M-${i}`,
        boxId: BOX,
        person: { familyName: 'Mustermann', givenNames: 'Erika', dateOfBirth: '1990-05-17' },
        documents: [{ type: 'eAT', serialNumber: serial }],
        mobile: '+4915123456789',
        language: 'de',
        consent: true,
      });
      ids.push(pickup.id);
    }
    const reserved = perPickup(await settle(n));

    // Loaded with the ready SMS not yet sent (e.g. quiet hours): the SMS worker is held back.
    await dokubox.sms.stopWorker();
    for (const id of ids) await dokubox.service.markLoaded(id, 'staff:bench');
    const loaded = perPickup(await settle(2 * n));

    dokubox.sms.start();
    await until('the ready SMS', () => gateway.sent.length >= n);
    await settle(3 * n);
    for (const sms of gateway.sent) await gateway.report(sms.providerMessageId, 'delivered');
    const notified = perPickup(await settle(4 * n));
    const families = await familySizes(admin, ns);
    const detail = [...families]
      .filter(([family, bytes]) => family !== CAPPED && bytes / n >= 1)
      .sort((a, b) => b[1] - a[1])
      .map(([family, bytes]) => `${family} ${Math.round(bytes / n)}`)
      .join(', ');
    const capped = Math.round((families.get(CAPPED) ?? 0) / 1024);

    for (const id of ids) await dokubox.service.markCollected(id, 'kiosk:bench', 'code_and_date_of_birth');
    const ended = perPickup(await settle(5 * n));

    lines.push(
      `memory     Redis bytes per pickup (${n} pickups, used_memory growth over the idle service): reserved ${reserved}, loaded (SMS not yet sent) ${loaded}, notified (SMS delivered, reminder scheduled) ${notified}, ended (pseudonymous record kept AUDIT_RETENTION_DAYS) ${ended}`,
      `memory     notified pickup by key family (bytes): ${detail}; plus BullMQ's event logs, capped at 1000 entries per queue: ${capped} KB in all`,
    );
  } finally {
    await dokubox.close();
    await admin.quit();
    await callback.close();
    await server.stop();
  }
  return lines;
}
