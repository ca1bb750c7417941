/**
 * Verification at the box over HTTP (`POST /v1/boxes/:boxId/verifications`,
 * the check the kiosk's pickup route runs first): the answer time of a live
 * code with a wrong date of birth next to that of a code that does not
 * exist. Both must do the same work, so the two medians should be equal
 * within noise; a gap would tell an attacker which codes are live. The two
 * kinds of request alternate, so drift of the machine hits both alike.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { sha256Hex } from '../src/http/auth.js';
import { createDokubox } from '../src/main.js';
import type { ClientIdentity } from '../src/service/types.js';

const AUTHORITY = 'magdeburg-abh';
const BOX = 'md-foyer';

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? NaN;
}

/** Rounds alternate which request goes first: the mean of the median per-round difference of each order. */
function pairedDifference(live: number[], unknown: number[]): number {
  const diffs = live.map((ms, i) => ms - (unknown[i] ?? NaN));
  return (median(diffs.filter((_, i) => i % 2 === 0)) + median(diffs.filter((_, i) => i % 2 === 1))) / 2;
}

export async function benchVerify(redisUrl: string, rounds = 500): Promise<string> {
  const kioskKey = `bench-kiosk-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `bench-verify-${randomBytes(4).toString('hex')}`,
    PORT: '0',
    LOG_LEVEL: 'silent',
    SECRET_KEY: randomBytes(32).toString('base64'),
    PII_KEY: randomBytes(32).toString('base64'),
    API_KEYS: JSON.stringify([{ id: 'bench-kiosk', role: 'kiosk', authority: AUTHORITY, sha256: sha256Hex(kioskKey) }]),
    SMS_DEV_URL: 'http://127.0.0.1:9',
    LOCKERS_ENABLED: 'false',
    BOX_OPENING_HOURS: 'ignore',
  });
  const code = '731904';
  const dokubox = await createDokubox(config, { background: false, randomCode: () => code });
  try {
    const { url } = await dokubox.listen();
    const caseSystem: ClientIdentity = { id: 'bench-case', role: 'case-system', authority: AUTHORITY };
    const { pickup } = await dokubox.service.submitNotice(caseSystem, {
      messageId: `bench-verify-${randomBytes(4).toString('hex')}`,
      authority: AUTHORITY,
      caseNumber: 'AZ-BENCH-1',
      boxId: BOX,
      person: { familyName: 'Benchmark', givenNames: 'Test', dateOfBirth: '1990-05-17' },
      documents: [{ type: 'eAT', serialNumber: 'B000000001' }],
      mobile: '+4915123456789',
      language: 'de',
      consent: true,
    });
    await dokubox.service.markLoaded(pickup.id, 'staff:bench');
    await dokubox.service.markNotified(pickup.id);

    // Each request starts from a client without failures: the attempt limits would otherwise pause it (429) and block the code.
    const ns = config.REDIS_KEY_PREFIX;
    const resetLimits = async (): Promise<void> => {
      await dokubox.redis.del(`${ns}:kiosk:attempts:api.bench-kiosk`, `${ns}:kiosk:attempts:api.bench-kiosk:window`);
      await dokubox.redis.hdel(`${ns}:pickup:${pickup.id}`, 'verifyFailures', 'codeBlocked');
    };
    const verify = async (body: { code: string; mobile: string; dateOfBirth: string }): Promise<number> => {
      await resetLimits();
      const t0 = performance.now();
      const response = await fetch(`${url}/v1/boxes/${BOX}/verifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${kioskKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await response.arrayBuffer();
      const ms = performance.now() - t0;
      if (response.status !== 401) throw new Error(`verification bench: expected 401, got ${response.status}`);
      return ms;
    };
    const live = { code, mobile: '+4915123456789', dateOfBirth: '1990-05-18' };
    const unknown = { code: '104729', mobile: '+4915123456789', dateOfBirth: '1990-05-18' };
    // Warm-up: connections, the script cache, the JIT.
    for (let i = 0; i < 50; i += 1) {
      await verify(live);
      await verify(unknown);
    }
    const liveMs: number[] = [];
    const unknownMs: number[] = [];
    for (let i = 0; i < rounds; i += 1) {
      if (i % 2 === 0) {
        liveMs.push(await verify(live));
        unknownMs.push(await verify(unknown));
      } else {
        unknownMs.push(await verify(unknown));
        liveMs.push(await verify(live));
      }
    }
    const line = (label: string, samples: number[]): string => `  ${label.padEnd(38)} n=${samples.length}  median ${median(samples).toFixed(3)} ms  p95 ${p95(samples).toFixed(3)} ms`;
    return [
      'verification over HTTP (both answer 401 VERIFICATION_FAILED)',
      line('live code, wrong date of birth', liveMs),
      line('code that does not exist', unknownMs),
      `  difference of medians                  ${(median(liveMs) - median(unknownMs)).toFixed(3)} ms`,
      // Each round sends both back to back, which cancels drift of the machine; the order alternates, and averaging the
      // median difference of each order cancels an advantage of being first or second.
      `  paired difference (order-balanced)     ${pairedDifference(liveMs, unknownMs).toFixed(3)} ms`,
    ].join('\n');
  } finally {
    await dokubox.close();
  }
}
