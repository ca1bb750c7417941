/**
 * `npm run bench`: measures the running system with real Redis and prints
 * the numbers with the machine's core count. Not a test: nothing is asserted.
 * BENCH_SECONDS (default 10) sets the length of each step; BENCH_ONLY
 * (coldstart,efficiency,xml,sms,locker,memory,takeover,verify,kiosk) picks scenarios;
 * BENCH_COLDSTART_RUNS (default 7) the number of starts per entry point.
 */
import { cpus } from 'node:os';
import { projectPath } from '../src/project-root.js';
import { startPrivateRedis } from '../src/cli/redis-server.js';
import { benchColdstart } from './coldstart.js';
import { benchEfficiency } from './efficiency.js';
import { benchKiosk } from './kiosk.js';
import { benchLocker } from './locker.js';
import { benchMemory } from './memory.js';
import { benchTakeover } from './takeover.js';
import { benchSms } from './sms.js';
import { benchVerify } from './verify.js';
import { benchXml } from './xml.js';

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const redis = process.env.REDIS_URL ? undefined : await startPrivateRedis();
  const redisUrl = process.env.REDIS_URL ?? redis!.url;
  const only = process.env.BENCH_ONLY?.split(',');
  const want = (name: string) => only === undefined || only.includes(name);
  const lines = [`dokubox benchmark  ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'})  node ${process.version}  ${seconds}s per step`];
  try {
    // First, while nothing else runs in this process: the service starts as separate processes.
    if (want('coldstart')) lines.push(await benchColdstart(redisUrl, Number(process.env.BENCH_COLDSTART_RUNS ?? 7)));
    if (want('efficiency')) {
      lines.push(
        ...(await benchEfficiency({
          seconds: Number(process.env.BENCH_EFFICIENCY_SECONDS ?? 5),
          repeats: Number(process.env.BENCH_EFFICIENCY_REPEATS ?? 3),
          pin: process.env.BENCH_EFFICIENCY_PIN === '1',
          runtime: process.env.BENCH_EFFICIENCY_RUNTIME === 'tsx' ? 'tsx' : 'compiled',
          ...(process.env.BENCH_EFFICIENCY_AGAINST ? { against: process.env.BENCH_EFFICIENCY_AGAINST } : {}),
          ...(process.env.BENCH_EFFICIENCY_SCENARIOS ? { scenarios: process.env.BENCH_EFFICIENCY_SCENARIOS.split(',') } : {}),
          ...(process.env.BENCH_PROFILE === '1' ? { profile: { dir: process.env.BENCH_PROFILE_DIR ?? projectPath('var/profiles') } } : {}),
        })),
      );
    }
    if (want('xml')) lines.push(await benchXml());
    if (want('sms')) lines.push(await benchSms(redisUrl));
    if (want('locker')) lines.push(await benchLocker());
    if (want('memory')) lines.push(...(await benchMemory()));
    if (want('takeover')) lines.push(await benchTakeover());
    if (want('verify')) lines.push(await benchVerify(redisUrl, Number(process.env.BENCH_VERIFY_ROUNDS ?? 500)));
    if (want('kiosk')) lines.push(await benchKiosk(redisUrl, Number(process.env.BENCH_KIOSK_ROUNDS ?? 20)));
  } finally {
    await redis?.stop();
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
