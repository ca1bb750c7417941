/**
 * Builds a complete dokubox against the test Redis with a unique key prefix,
 * a manual clock, known API keys and a log sink that tests can read.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../src/config.js';
import { ManualClock } from '../../src/core/clock.js';
import { sha256Hex } from '../../src/http/auth.js';
import { createLogger } from '../../src/logger.js';
import { createDokubox, type Dokubox } from '../../src/main.js';
import type { NoticeInput } from '../../src/core/notice.js';
import type { SmsGateway } from '../../adapters/sms/types.js';
import { DokuboxError } from '../../src/core/errors.js';
import { rejectionOf } from './errors.js';

export const AUTHORITY = 'magdeburg-abh';
export const BOX = 'md-foyer';

export const KEYS = {
  caseSystem: 'test-case-system-key-0001',
  staff: 'test-staff-key-000000001',
  kiosk: 'test-kiosk-key-000000001',
  locker: 'test-locker-key-00000001',
  admin: 'test-admin-key-000000001',
  monitoring: 'test-monitoring-key-0001',
  otherAuthority: 'test-other-authority-key1',
} as const;

export interface TestWorld {
  dokubox: Dokubox;
  clock: ManualClock;
  logs: string[];
  config: Config;
  request(method: string, path: string, options?: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/** The API_KEYS entries of the test keys (as JSON for the environment). */
export function testApiKeys(): string {
  return JSON.stringify(
    [
      { id: 'case-1', role: 'case-system', authority: AUTHORITY, key: KEYS.caseSystem },
      { id: 'staff-1', role: 'staff', authority: AUTHORITY, key: KEYS.staff },
      { id: 'kiosk-1', role: 'kiosk', authority: AUTHORITY, key: KEYS.kiosk },
      { id: 'locker-1', role: 'locker', authority: AUTHORITY, key: KEYS.locker },
      { id: 'admin-1', role: 'admin', authority: AUTHORITY, key: KEYS.admin },
      { id: 'mon-1', role: 'monitoring', authority: AUTHORITY, key: KEYS.monitoring },
      { id: 'case-other', role: 'case-system', authority: 'dresden-abh', key: KEYS.otherAuthority },
    ].map(({ key, ...rest }) => ({ ...rest, sha256: sha256Hex(key) })),
  );
}

/** The environment of a test instance: its own key prefix and secrets, the test keys and boxes, no lockers; `overrides` win. */
export function testEnv(redisUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    SECRET_KEY: randomBytes(32).toString('base64'),
    PII_KEY: randomBytes(32).toString('base64'),
    API_KEYS: testApiKeys(),
    BOXES_DIR: 'tests/fixtures/boxes',
    LOCKERS_ENABLED: 'false',
    SMS_DEV_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'info',
    // Tests move the clock freely; the kiosk's tests enforce opening hours (tests/support/kiosk-world.ts).
    BOX_OPENING_HOURS: 'ignore',
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig(testEnv(inject('redisUrl'), overrides));
}

/** The problems a configuration error lists for `env` (none when it loads). */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

export async function createWorld(options: { env?: Record<string, string>; start?: string; randomCode?: () => string; config?: Config; smsGateway?: SmsGateway } = {}): Promise<TestWorld> {
  const clock = new ManualClock(options.start ?? '2026-03-02T09:00:00Z');
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString());
      callback();
    },
  });
  const config = options.config ?? testConfig(options.env);
  const dokubox = await createDokubox(config, {
    clock,
    logger: createLogger({ level: 'info', destination: sink }),
    background: false,
    ...(options.randomCode === undefined ? {} : { randomCode: options.randomCode }),
    ...(options.smsGateway === undefined ? {} : { smsGateway: options.smsGateway }),
  });
  await dokubox.events.init();
  return {
    dokubox,
    clock,
    logs,
    config,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const key = opts.key === undefined ? KEYS.admin : opts.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      return dokubox.app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
    },
    async close() {
      const keys = await dokubox.redis.keys(`${config.REDIS_KEY_PREFIX}:*`);
      if (keys.length > 0) await dokubox.redis.del(...keys);
      await dokubox.close();
    },
  };
}

let counter = 0;

/** A valid notice; every call gets a fresh message id and document number. */
export function notice(overrides: Partial<NoticeInput> = {}): NoticeInput {
  counter += 1;
  const n = String(counter).padStart(6, '0');
  return {
    messageId: `msg-${randomUUID()}`,
    authority: AUTHORITY,
    caseNumber: `AZ-2026-${n}`,
    boxId: BOX,
    person: { familyName: 'Abdullahi', givenNames: 'Amina Zoë', dateOfBirth: '1991-04-17' },
    documents: [{ type: 'eAT', serialNumber: `T${n}X${String(Math.floor(counter / 7)).padStart(2, '0')}`.slice(0, 10) }],
    mobile: '+4915123456789',
    language: 'de',
    consent: true,
    accessible: false,
    ...overrides,
  };
}

/** The DokuboxError a promise rejects with; fails the test when it resolves. */
export const rejection = (promise: Promise<unknown>): Promise<DokuboxError> => rejectionOf(promise, DokuboxError);
