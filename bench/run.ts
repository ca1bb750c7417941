/**
 * `npm run bench`: measures the running system with real Redis and prints
 * the numbers with the machine's core count. Not a test: nothing is asserted.
 * BENCH_SECONDS (default 10) sets the length of each step; BENCH_ONLY
 * (coldstart,ingestion,soap,xml,sms,locker,memory,takeover,verify,kiosk) picks scenarios;
 * BENCH_COLDSTART_RUNS (default 7) the number of starts per entry point.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { loadConfig } from '../src/config.js';
import { sha256Hex } from '../src/http/auth.js';
import { createDokubox, type Dokubox } from '../src/main.js';
import { startPrivateRedis } from '../src/cli/redis-server.js';
import { createHash } from 'node:crypto';
import { benchColdstart } from './coldstart.js';
import { benchIngestion } from './ingestion.js';
import { benchKiosk } from './kiosk.js';
import { benchLocker } from './locker.js';
import { benchMemory } from './memory.js';
import { benchTakeover } from './takeover.js';
import { benchSms } from './sms.js';
import { benchSoap } from './soap.js';
import { benchVerify } from './verify.js';
import { benchXml } from './xml.js';

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const redis = process.env.REDIS_URL ? undefined : await startPrivateRedis();
  const redisUrl = process.env.REDIS_URL ?? redis!.url;
  const only = process.env.BENCH_ONLY?.split(',');
  const want = (name: string) => only === undefined || only.includes(name);
  const lines = [`dokubox benchmark  ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'})  node ${process.version}  ${seconds}s per step`];
  let dokubox: Dokubox | undefined;
  try {
    // First, while nothing else runs in this process: the service starts as separate processes.
    if (want('coldstart')) lines.push(await benchColdstart(redisUrl, Number(process.env.BENCH_COLDSTART_RUNS ?? 7)));
    if (want('ingestion') || want('soap')) {
      const apiKey = `bench-${randomBytes(16).toString('hex')}`;
      const config = loadConfig({
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
        PORT: '0',
        LOG_LEVEL: 'silent',
        SECRET_KEY: randomBytes(32).toString('base64'),
        PII_KEY: randomBytes(32).toString('base64'),
        API_KEYS: JSON.stringify([{ id: 'bench', role: 'case-system', authority: 'magdeburg-abh', sha256: sha256Hex(apiKey) }]),
        CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'bench-soap', authority: 'magdeburg-abh', basic: { username: 'bench', passwordSha256: createHash('sha256').update('bench-password').digest('hex') } }]),
        SMS_DEV_URL: 'http://127.0.0.1:9',
        LOCKERS_ENABLED: 'false',
      });
      dokubox = await createDokubox(config);
      const { url } = await dokubox.listen();
      if (want('ingestion')) lines.push(...(await benchIngestion({ url, apiKey, authority: 'magdeburg-abh', boxId: 'md-foyer' }, [100, 250, 500, 1000], seconds)));
      if (want('soap')) lines.push(await benchSoap(url, { username: 'bench', password: 'bench-password' }, { seconds, authority: 'magdeburg-abh', boxId: 'md-foyer', rates: [100, 200, 400, 800] }));
    }
    if (want('xml')) lines.push(await benchXml());
    if (want('sms')) lines.push(await benchSms(redisUrl));
    if (want('locker')) lines.push(await benchLocker());
    if (want('memory')) lines.push(...(await benchMemory()));
    if (want('takeover')) lines.push(await benchTakeover());
    if (want('verify')) lines.push(await benchVerify(redisUrl, Number(process.env.BENCH_VERIFY_ROUNDS ?? 500)));
    if (want('kiosk')) lines.push(await benchKiosk(redisUrl, Number(process.env.BENCH_KIOSK_ROUNDS ?? 20)));
  } finally {
    await dokubox?.close();
    await redis?.stop();
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
