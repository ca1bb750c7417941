/**
 * Starts a private redis-server child process for the zero-config start and
 * for the test suite. Production deployments point REDIS_URL at a managed
 * Redis instead (see docs/operations.md).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

export interface PrivateRedis {
  url: string;
  port: number;
  /** The server's process id. */
  pid: number;
  /** SIGTERM: Redis shuts down gracefully (flushes the AOF). */
  stop(): Promise<void>;
  /** SIGKILL: a crash; with `appendfsync: 'always'` every acknowledged write is on disk. */
  kill(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Directory for AOF files; when omitted the server keeps nothing on disk. */
  dataDir?: string;
  binary?: string;
  /** Listen on this port (e.g. to restart a server where its clients expect it); default a free one. */
  port?: number;
  /** AOF fsync policy with `dataDir`; default `everysec`. */
  appendfsync?: 'always' | 'everysec';
  /** Further `--option value` arguments (tests: `--replicaof`, timeouts). */
  args?: string[];
}

export class RedisBinaryMissingError extends Error {
  readonly code = 'REDIS_BINARY_MISSING';
  constructor(binary: string) {
    super(
      `'${binary}' was not found. Install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL to an existing Redis.`,
    );
  }
}

export function redisBinaryAvailable(binary = 'redis-server'): boolean {
  const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const binary = options.binary ?? 'redis-server';
  if (!redisBinaryAvailable(binary)) throw new RedisBinaryMissingError(binary);
  const port = options.port ?? (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--maxmemory-policy', 'noeviction'];
  let scratch: string | undefined;
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('--dir', options.dataDir, '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec');
  } else {
    // Nothing to keep, but a replica still writes the RDB of its full sync to its directory: a scratch one, not the cwd.
    scratch = mkdtempSync(join(tmpdir(), 'dokubox-redis-'));
    args.push('--dir', scratch, '--appendonly', 'no');
  }
  args.push(...(options.args ?? []));
  // A process group of its own: Ctrl-C in a terminal signals the whole foreground group, and Redis
  // must outlive the service's shutdown (it is stopped last, by `stop()`), not die with the keystroke.
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // No orphan when this process ends without stopping it (an uncaught error, process.exit).
  const orphanGuard = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', orphanGuard);
  child.once('exit', () => {
    process.off('exit', orphanGuard);
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code ?? 'null'} before it was ready: ${output.slice(-500)}`)));
    child.once('error', reject);
  });
  // Keep draining the pipes so the child never blocks on a full buffer; with a data directory, its log goes there.
  if (options.dataDir !== undefined) {
    const log = createWriteStream(join(options.dataDir, 'redis.log'), { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  const end = (signal: NodeJS.Signals) => (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    stop: end('SIGTERM'),
    kill: end('SIGKILL'),
  };
}
