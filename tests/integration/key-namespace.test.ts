/**
 * Every Redis key the service writes lies inside REDIS_KEY_PREFIX, so that
 * several deployments can share one Redis and an operator can find (and
 * delete) everything of one. A private redis-server holds nothing else; a
 * pickup goes through the whole chain (status reports, SMS through the
 * seven.io simulator with signed delivery reports, reminders, the sweep).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startPrivateRedis, type PrivateRedis } from '../../src/cli/redis-server.js';
import { loadConfig } from '../../src/config.js';
import { createDokubox, type Dokubox } from '../../src/main.js';
import { startCallbackServer, type CallbackServer } from '../../simulator/case-system/callback-server.js';
import { startSevenSimulator, type SevenSimulator } from '../../simulator/sms-gateway/seven-server.js';
import { AUTHORITY, notice, testEnv } from '../support/harness.js';

const SECRET = 'namespace-test-webhook-secret-01';
let redis: PrivateRedis;
let callback: CallbackServer;
let seven: SevenSimulator;
let dokubox: Dokubox;
let url: string;

beforeAll(async () => {
  redis = await startPrivateRedis();
  callback = await startCallbackServer();
  seven = await startSevenSimulator({ signingSecret: SECRET });
  const config = loadConfig(
    testEnv(redis.url, {
      REDIS_KEY_PREFIX: 'tenant-a',
      PORT: '0',
      CASE_SYSTEM_CALLBACKS: JSON.stringify({ [AUTHORITY]: { url: callback.url } }),
      SMS_GATEWAY: 'dev',
      SMS_DEV_URL: seven.url,
      SEVEN_WEBHOOK_SECRET: SECRET,
      SMS_QUIET_HOURS: 'off',
    }),
  );
  dokubox = await createDokubox(config, { logger: pino({ level: 'silent' }) });
  url = (await dokubox.listen()).url;
  seven.setWebhookUrl(`${url}/sms/v1/seven/webhook`);
});

afterAll(async () => {
  await dokubox?.close();
  await seven?.close();
  await callback?.close();
  await redis?.stop();
});

describe('Redis key namespace', () => {
  it('keeps every key of the service inside REDIS_KEY_PREFIX', async () => {
    const client = { id: 'case-1', role: 'case-system' as const, authority: AUTHORITY };
    const { pickup } = await dokubox.service.submitNotice(client, notice());
    await dokubox.service.markLoaded(pickup.id, 'staff:s1');
    // reserved, loaded, notified, smsDelivered: reports, SMS, the delivery-report webhook and its nonce all happened.
    await callback.waitUntil((all) => all.some((r) => r.pickupId === pickup.id && r.status === 'smsDelivered'));
    await dokubox.maintenance.sweep();
    await dokubox.service.markCollected(pickup.id, 'kiosk:k1', 'code_and_date_of_birth');
    await callback.waitUntil((all) => all.some((r) => r.pickupId === pickup.id && r.status === 'collected'));

    const admin = new Redis(redis.url);
    const keys = await admin.keys('*');
    await admin.quit();
    expect(keys.length).toBeGreaterThan(10);
    expect(keys.filter((k) => !k.startsWith('tenant-a:'))).toEqual([]);
  });
});
