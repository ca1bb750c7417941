/**
 * Real service instances as child processes (the entry point the container
 * runs), for tests of guarantees across instances and crashes: start, stop
 * gracefully, kill -9, restart on the same port. Every instance of one test
 * shares the environment from `instanceEnv` (one Redis, one key prefix, the
 * same secrets and API keys as the in-process harness).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { COMPILED_ENTRY, compiledIsCurrent } from '../../src/cli/compiled.js';
import { freePort } from '../../src/cli/redis-server.js';
import { PROJECT_ROOT } from '../../src/main.js';
import { testEnv } from './harness.js';

export interface ServiceProcess {
  /** Base URL, e.g. `http://127.0.0.1:4711` (stays the same across restarts). */
  readonly url: string;
  readonly port: number;
  /** The current child's pid (changes on restart). */
  pid(): number;
  /** Everything the current and earlier children wrote (stdout and stderr). */
  output(): string;
  /** Whether the current child is running. */
  running(): boolean;
  /** SIGKILL, no chance to clean up; resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM, graceful shutdown; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Starts a new child on the same port (after kill or stop). */
  restart(): Promise<void>;
}

/**
 * The command that runs the service entry point: the compiled JavaScript when
 * dist/ is current (`npm test` builds it first), else the TypeScript sources
 * through tsx, so a test never runs stale code. DOKUBOX_TEST_ENTRY=tsx forces tsx.
 */
export function serviceCommand(): string[] {
  if (process.env.DOKUBOX_TEST_ENTRY !== 'tsx' && compiledIsCurrent()) return [COMPILED_ENTRY];
  return ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'start.ts')];
}

/** Environment shared by all instances of one test; `overrides` win. */
export function instanceEnv(redisUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  // Several processes share one key prefix (and secrets); warnings only, the tests read answers, not logs.
  return testEnv(redisUrl, { HOST: '127.0.0.1', REDIS_KEY_PREFIX: `mp-${randomUUID().slice(0, 8)}`, SMS_QUIET_HOURS: 'off', LOG_LEVEL: 'warn', ...overrides });
}

function childEnv(env: Record<string, string>, port: number): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS') clean[k] = v;
  return { ...clean, ...env, PORT: String(port) };
}

/** Starts one instance and resolves once it listens (its start-up banner is printed after `listen`). */
export async function startServiceProcess(env: Record<string, string>, options: { port?: number; readyTimeoutMs?: number } = {}): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (): Promise<void> => {
    const proc = spawn(process.execPath, serviceCommand(), { cwd: PROJECT_ROOT, env: childEnv(env, port), stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let mine = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance on port ${port} not ready after ${options.readyTimeoutMs ?? 30_000} ms:\n${mine.slice(-2000)}`)), options.readyTimeoutMs ?? 30_000);
      const onData = (chunk: Buffer): void => {
        const text = chunk.toString();
        mine += text;
        output += text;
        if (mine.includes('dokubox is running')) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`instance on port ${port} exited (${code ?? signal}) before it was ready:\n${mine.slice(-2000)}`));
      });
    });
  };

  await launch();
  return {
    url,
    port,
    pid: () => child?.pid ?? -1,
    output: () => output,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async kill() {
      const proc = child;
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      const proc = child;
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
      const exited = once(proc, 'exit') as Promise<[number | null]>;
      proc.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
    async restart() {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) throw new Error('instance is still running; kill or stop it first');
      await launch();
    },
  };
}
