/**
 * Redis topologies as child processes for tests of outages and failover:
 * replicas (`--replicaof`), Redis Sentinels with short timeouts, and
 * conditions to wait for (polled with a deadline: these are external
 * processes that announce nothing to us).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, redisBinaryAvailable, startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from '../../src/cli/redis-server.js';

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** One short-lived command against a Redis or Sentinel port. */
export async function redisCall(port: number, ...args: string[]): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(args[0] as string, ...args.slice(1));
  } finally {
    client.disconnect();
  }
}

/** `INFO replication` as a record. */
export async function replicationInfo(port: number): Promise<Record<string, string>> {
  const text = String(await redisCall(port, 'INFO', 'replication'));
  return Object.fromEntries(text.split(/\r?\n/).filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
}

/** A server that replicas may follow: full synchronisations start at once (default: 5 s delay to batch replicas). */
export function startPrimary(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  return startPrivateRedis({ ...options, args: ['--repl-diskless-sync-delay', '0', ...(options.args ?? [])] });
}

/** A replica of `primaryPort`, resolved once it has synchronised. */
export async function startReplica(primaryPort: number, options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  // A replica may become the primary (failover): it too starts synchronisations at once.
  const replica = await startPrivateRedis({ ...options, args: ['--replicaof', '127.0.0.1', String(primaryPort), '--repl-diskless-sync-delay', '0', ...(options.args ?? [])] });
  try {
    await until(`replica ${replica.port} to sync with ${primaryPort}`, async () => (await replicationInfo(replica.port)).master_link_status === 'up');
  } catch (error) {
    await replica.stop();
    throw error;
  }
  return replica;
}

export interface Sentinel {
  port: number;
  stop(): Promise<void>;
}

export interface SentinelTiming {
  /** `down-after-milliseconds`. */
  downAfterMs: number;
  /** `failover-timeout`. */
  failoverTimeoutMs: number;
}

/** Starts `count` sentinels monitoring `name` at the primary with `quorum`; resolves once they know the replicas and each other. */
export async function startSentinels(
  primaryPort: number,
  options: { name: string; count: number; quorum: number; replicas: number } & SentinelTiming,
): Promise<Sentinel[]> {
  const sentinels: Sentinel[] = [];
  try {
    for (let i = 0; i < options.count; i += 1) sentinels.push(await startSentinel(primaryPort, options));
    for (const s of sentinels) {
      await until(`sentinel ${s.port} to see ${options.replicas} replica(s) and ${options.count - 1} other sentinel(s)`, async () => {
        const master = pairs((await redisCall(s.port, 'SENTINEL', 'MASTER', options.name)) as string[]);
        return Number(master['num-slaves']) === options.replicas && Number(master['num-other-sentinels']) === options.count - 1;
      });
    }
    return sentinels;
  } catch (error) {
    for (const s of sentinels) await s.stop();
    throw error;
  }
}

function pairs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}

async function startSentinel(primaryPort: number, options: { name: string; quorum: number } & SentinelTiming): Promise<Sentinel> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dokubox-sentinel-'));
  const file = join(dir, 'sentinel.conf');
  // Sentinel rewrites its file (discovered replicas, epochs), so each gets its own.
  writeFileSync(
    file,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${options.name} 127.0.0.1 ${primaryPort} ${options.quorum}`,
      `sentinel down-after-milliseconds ${options.name} ${options.downAfterMs}`,
      `sentinel failover-timeout ${options.name} ${options.failoverTimeoutMs}`,
      `sentinel parallel-syncs ${options.name} 2`,
      '',
    ].join('\n'),
  );
  // Debian's redis-sentinel when installed (as in CI and production), else the same binary in sentinel mode.
  const child: ChildProcess = redisBinaryAvailable('redis-sentinel')
    ? spawn('redis-sentinel', [file], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('redis-server', [file, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('+monitor master')) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server --sentinel exited with ${code ?? 'a signal'} before monitoring: ${output.slice(-500)}`)));
    child.once('error', reject);
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

/** The primary's port as the sentinel reports it. */
export async function sentinelPrimaryPort(sentinelPort: number, name: string): Promise<number> {
  const [, port] = (await redisCall(sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
  return Number(port);
}
