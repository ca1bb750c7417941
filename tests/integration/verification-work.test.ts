/**
 * The answer time of a verification must not tell whether a code is live at
 * the box. Shown structurally, not by timing: a live code with a wrong date
 * of birth, a code that does not exist and a correct entry send the same
 * Redis commands (counted by the client, and by a private redis-server's
 * command statistics, which include the commands inside scripts) and
 * decrypt the same number of sealed records of about the same size.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../src/cli/redis-server.js';
import { PiiCipher } from '../../src/security/pii-cipher.js';
import type { ClientIdentity } from '../../src/service/types.js';
import { AUTHORITY, BOX, createWorld, KEYS, notice, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };
const kiosk: ClientIdentity = { id: 'kiosk-1', role: 'kiosk', authority: AUTHORITY };

let redis: PrivateRedis;
let admin: Redis;
let world: TestWorld;
let code: string;
let dateOfBirth: string;
const sent: string[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  admin = new Redis(redis.url);
  world = await createWorld({ env: { REDIS_URL: redis.url }, randomCode: () => '482915' });
  const input = notice();
  dateOfBirth = input.person.dateOfBirth;
  const { pickup } = await world.dokubox.service.submitNotice(caseSystem, input);
  await world.dokubox.service.markLoaded(pickup.id, 'staff:staff-1');
  await world.dokubox.service.markNotified(pickup.id);
  code = '482915';
  // Every command the service's connection sends (also those in pipelines and the scripts' EVALSHA).
  const connection = world.dokubox.redis;
  const original = connection.sendCommand.bind(connection);
  connection.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    sent.push(command.name);
    return (original as (...args: unknown[]) => unknown)(command, ...rest);
  }) as typeof connection.sendCommand;
});

afterAll(async () => {
  try {
    await world?.close();
    admin?.disconnect();
  } finally {
    await redis?.stop();
  }
});

interface Work {
  commands: string[];
  serverCommands: Record<string, number>;
  decryptions: number;
  sealedLengths: number[];
  outcome: string;
}

/** Commands the server executed since the last reset, without the test's own INFO/CONFIG calls. */
async function serverCommands(): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = match[1] ?? '';
    if (/^(info|config)\b/.test(name)) continue;
    counts[name] = Number(match[2]);
  }
  return counts;
}

async function workOf(entered: { code: string; dateOfBirth: string }, via: 'service' | 'http' = 'service'): Promise<Work> {
  // Each attempt starts from a kiosk without failures (the limits have tests of their own: tests/integration/kiosk-attempts.test.ts).
  const limits = await admin.keys(`${world.config.REDIS_KEY_PREFIX}:kiosk:*`);
  if (limits.length > 0) await admin.del(...limits);
  for (const key of await admin.keys(`${world.config.REDIS_KEY_PREFIX}:pickup:*`)) await admin.hdel(key, 'verifyFailures', 'codeBlocked');
  const open = vi.spyOn(PiiCipher.prototype, 'open');
  sent.length = 0;
  await admin.config('RESETSTAT');
  let outcome: string;
  if (via === 'http') {
    const response = await world.request('POST', `/v1/boxes/${BOX}/verifications`, { key: KEYS.kiosk, body: entered });
    outcome = String(response.status);
  } else {
    outcome = await world.dokubox.service.verify(kiosk, BOX, entered).then(
      () => 'verified',
      (error: { code?: string }) => error.code ?? 'error',
    );
  }
  const work = {
    commands: [...sent],
    serverCommands: await serverCommands(),
    decryptions: open.mock.calls.length,
    sealedLengths: open.mock.calls.map((call) => String(call[1]).length),
    outcome,
  };
  open.mockRestore();
  return work;
}

describe('verification at the box', () => {
  it('does the same Redis and decryption work whether the code exists or not', async () => {
    const absent = code === '000000' ? '000001' : '000000';
    // Warm up: the first call of a script loads it into the server (EVALSHA, NOSCRIPT, EVAL).
    await workOf({ code: absent, dateOfBirth });

    const wrongDate = await workOf({ code, dateOfBirth: '1900-01-01' });
    const noSuchCode = await workOf({ code: absent, dateOfBirth: '1900-01-01' });
    const correct = await workOf({ code, dateOfBirth });

    expect(wrongDate.outcome).toBe('VERIFICATION_FAILED');
    expect(noSuchCode.outcome).toBe('VERIFICATION_FAILED');
    expect(correct.outcome).toBe('verified');

    // Three round trips (is the kiosk paused, the lookup, the attempt's record), the same commands on both
    // failing paths; success (which the open door reveals anyway) takes as many round trips.
    expect(wrongDate.commands).toEqual(['evalsha', 'evalsha', 'evalsha']);
    expect(noSuchCode.commands).toEqual(wrongDate.commands);
    expect(correct.commands).toHaveLength(wrongDate.commands.length);
    expect(noSuchCode.serverCommands).toEqual(wrongDate.serverCommands);
    expect(Object.keys(wrongDate.serverCommands).length).toBeGreaterThan(1);

    // One decryption each, of sealed records of about the same size.
    expect(wrongDate.decryptions).toBe(1);
    expect(noSuchCode.decryptions).toBe(1);
    const [real, decoy] = [wrongDate.sealedLengths[0] ?? 0, noSuchCode.sealedLengths[0] ?? 0];
    expect(Math.abs(real - decoy)).toBeLessThan(real * 0.25);
  });

  it('does the same work over HTTP at the verification route for a live code and an unknown one', async () => {
    const absent = code === '111111' ? '111112' : '111111';
    const wrongDate = await workOf({ code, dateOfBirth: '1900-01-01' }, 'http');
    const noSuchCode = await workOf({ code: absent, dateOfBirth: '1900-01-01' }, 'http');
    expect([wrongDate.outcome, noSuchCode.outcome]).toEqual(['401', '401']);
    expect(noSuchCode.commands).toEqual(wrongDate.commands);
    expect(noSuchCode.serverCommands).toEqual(wrongDate.serverCommands);
    expect(noSuchCode.decryptions).toBe(wrongDate.decryptions);
  });
});
