/**
 * SMS throughput: messages per second through the queue to the simulator's
 * seven.io-compatible gateway over real HTTP, and the latency from enqueue
 * to the gateway's acceptance. Quiet hours off, a generous rate limit, so the
 * number shows the pipeline's own cost, not a configured limit.
 */
import { pino } from 'pino';
import { SevenGateway } from '../adapters/sms/seven/gateway.js';
import { DEFAULT_OPENING_HOURS } from '../src/core/calendar.js';
import { systemClock } from '../src/core/clock.js';
import { SmsQueue } from '../src/sms/queue.js';
import { loadSmsTemplates } from '../src/sms/template-loader.js';
import { startSevenSimulator } from '../simulator/sms-gateway/index.js';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export async function benchSms(redisUrl: string, options: { messages?: number; concurrency?: number } = {}): Promise<string> {
  const total = options.messages ?? 500;
  const concurrency = options.concurrency ?? 16;
  const logger = pino({ level: 'silent' });
  const sim = await startSevenSimulator({ apiKey: 'bench' });
  const gateway = new SevenGateway({ apiKey: 'bench', baseUrl: sim.url, clock: systemClock, logger });
  const enqueuedAt = new Map<string, number>();
  const latencies: number[] = [];
  let done = 0;
  let failed = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const queue = new SmsQueue({
    connection: redisUrl,
    queueName: `bench-sms-${process.pid}-${Math.round(performance.now())}`,
    prefix: 'bench',
    gateway,
    reader: {
      loadForSms: async () => ({ mobile: '+4915112345678', code: '123456', language: 'de', location: 'Julius-Bremer-Str. 8', deadline: systemClock.now() + 7 * 86_400_000, hours: DEFAULT_OPENING_HOURS, timeZone: 'Europe/Berlin' }),
    },
    onOutcome: (pickupId, _kind, outcome) => {
      const start = enqueuedAt.get(pickupId);
      if (outcome.status === 'sent' && start !== undefined) latencies.push(performance.now() - start);
      else failed += 1;
      done += 1;
      if (done === total) finish();
    },
    templates: loadSmsTemplates(),
    sender: 'DokuBox',
    logger,
    quietHours: null,
    rateLimit: { max: 100_000, durationMs: 1_000 },
    concurrency,
  });
  try {
    queue.start();
    const started = performance.now();
    for (let i = 0; i < total; i += 1) {
      const id = `bench-${i}`;
      enqueuedAt.set(id, performance.now());
      await queue.notify(id, 'ready');
    }
    await finished;
    const seconds = (performance.now() - started) / 1000;
    const sorted = [...latencies].sort((a, b) => a - b);
    return [
      `sms: ${total} messages through the queue to the seven.io simulator in ${seconds.toFixed(2)} s (concurrency ${concurrency})`,
      `  throughput ${(total / seconds).toFixed(1)} msg/s, failed ${failed}, in inbox ${sim.inbox.count()}`,
      `  enqueue -> accepted: p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`,
    ].join('\n');
  } finally {
    await queue.stopWorker();
    await queue.queue.obliterate({ force: true });
    await queue.close();
    await sim.close();
  }
}
