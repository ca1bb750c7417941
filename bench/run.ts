/**
 * `npm run bench`: measures the running system with real Redis and prints
 * the numbers with the machine's core count. Not a test: nothing is asserted.
 * BENCH_SECONDS (default 10) sets the length of each step.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { loadConfig } from '../src/config.js';
import { sha256Hex } from '../src/http/auth.js';
import { createDokubox } from '../src/main.js';
import { startPrivateRedis } from '../src/cli/redis-server.js';
import { benchIngestion } from './ingestion.js';

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const redis = process.env.REDIS_URL ? undefined : await startPrivateRedis();
  const redisUrl = process.env.REDIS_URL ?? redis!.url;
  const apiKey = `bench-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
    PORT: '0',
    LOG_LEVEL: 'silent',
    SECRET_KEY: randomBytes(32).toString('base64'),
    PII_KEY: randomBytes(32).toString('base64'),
    API_KEYS: JSON.stringify([{ id: 'bench', role: 'case-system', authority: 'magdeburg-abh', sha256: sha256Hex(apiKey) }]),
  });
  const dokubox = await createDokubox(config);
  const { url } = await dokubox.listen();
  const lines = [`dokubox benchmark  ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'})  node ${process.version}  ${seconds}s per step`];
  try {
    lines.push(...(await benchIngestion({ url, apiKey, authority: 'magdeburg-abh', boxId: 'md-foyer' }, [100, 250, 500, 1000], seconds)));
  } finally {
    await dokubox.close();
    await redis?.stop();
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
