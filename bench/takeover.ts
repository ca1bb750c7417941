/**
 * Takeover after kill -9: two service processes on one Redis; instance A has
 * status reports in flight (the simulated case system holds the requests),
 * instance B is ready; A is killed with SIGKILL and the clock runs until B
 * has delivered every report A held. That is the time a failover adds to
 * work in progress (BullMQ's stalled-job check with WORKER_LOCK_MS, and the
 * event stream's heartbeat claim).
 */
import { startCallbackServer } from '../simulator/case-system/callback-server.js';
import { KEYS, notice } from '../tests/support/harness.js';
import { instanceEnv, startServiceProcess } from '../tests/support/service-process.js';
import { startPrivateRedis } from '../src/cli/redis-server.js';

const IN_FLIGHT = 4;

async function once(redisUrl: string): Promise<number> {
  const callback = await startCallbackServer();
  const env = instanceEnv(redisUrl, {
    CASE_SYSTEM_CALLBACKS: JSON.stringify({ 'magdeburg-abh': { url: callback.url, timeoutMs: 60_000 } }),
    CASE_SYSTEM_REPORT_CONCURRENCY: String(IN_FLIGHT),
  });
  const a = await startServiceProcess(env);
  let b: Awaited<ReturnType<typeof startServiceProcess>> | undefined;
  try {
    callback.script(...Array.from({ length: IN_FLIGHT }, () => 'timeout' as const));
    const ids: string[] = [];
    for (let i = 0; i < IN_FLIGHT; i += 1) {
      const response = await fetch(`${a.url}/v1/notices`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.caseSystem}`, 'content-type': 'application/json' }, body: JSON.stringify(notice()) });
      ids.push(((await response.json()) as { pickup: { id: string } }).pickup.id);
    }
    await callback.waitForAttempts(IN_FLIGHT); // A holds them all
    b = await startServiceProcess(env);
    const started = performance.now();
    await a.kill();
    await callback.waitUntil((reports) => ids.every((id) => reports.some((r) => r.pickupId === id)));
    return performance.now() - started;
  } finally {
    await b?.stop();
    await a.kill();
    await callback.close();
  }
}

export async function benchTakeover(runs = 3): Promise<string> {
  const redis = await startPrivateRedis();
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i += 1) times.push(await once(redis.url));
  } finally {
    await redis.stop();
  }
  times.sort((x, y) => x - y);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  return `takeover   kill -9 of the instance holding ${IN_FLIGHT} reports in flight -> all delivered by another instance: median ${(median / 1000).toFixed(1)} s, max ${((times.at(-1) ?? 0) / 1000).toFixed(1)} s (${runs} runs, WORKER_LOCK_MS default)`;
}
