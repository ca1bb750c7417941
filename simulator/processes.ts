/**
 * Middleware instances as child processes (the entry point the container
 * runs): start, stop gracefully, kill -9, restart on the same port. Used by
 * the scenario runner (simulator/scenario/) and by tests of guarantees across
 * instances and crashes (tests/support/service-process.ts adds the test
 * environment).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { COMPILED_ENTRY, compiledIsCurrent } from '../src/cli/compiled.js';
import { freePort } from '../src/cli/redis-server.js';
import { PROJECT_ROOT } from '../src/project-root.js';

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

export interface ServiceProcessOptions {
  port?: number;
  readyTimeoutMs?: number;
  /** Called with every complete line the children write (stdout and stderr), e.g. to scan the logs. */
  onLine?: (line: string) => void;
  /** Called when a child that was ready exits without kill() or stop() (a crash). */
  onCrash?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/**
 * The command that runs the service entry point: the compiled JavaScript when
 * dist/ is current (`npm test` builds it first), else the TypeScript sources
 * through tsx, so nobody runs stale code. DOKUBOX_TEST_ENTRY=tsx forces tsx.
 */
export function serviceCommand(): string[] {
  if (process.env.DOKUBOX_TEST_ENTRY !== 'tsx' && compiledIsCurrent()) return [COMPILED_ENTRY];
  return ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'start.ts')];
}

function childEnv(env: Record<string, string>, port: number): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS') clean[k] = v;
  return { ...clean, ...env, PORT: String(port) };
}

/** Starts one instance and resolves once it listens (its start-up banner is printed after `listen`). */
export async function startServiceProcess(env: Record<string, string>, options: ServiceProcessOptions = {}): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';
  let ending = false;

  const launch = async (): Promise<void> => {
    const proc = spawn(process.execPath, serviceCommand(), { cwd: PROJECT_ROOT, env: childEnv(env, port), stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    // No orphan when this process ends without stopping it (an uncaught error, process.exit on Ctrl-C).
    const orphanGuard = (): void => void proc.kill('SIGKILL');
    process.once('exit', orphanGuard);
    proc.once('exit', () => process.off('exit', orphanGuard));
    let mine = '';
    const partial = { stdout: '', stderr: '' };
    const lines = (stream: 'stdout' | 'stderr', text: string): void => {
      if (options.onLine === undefined) return;
      const parts = (partial[stream] + text).split('\n');
      partial[stream] = parts.pop() ?? '';
      for (const line of parts) options.onLine(line);
    };
    proc.once('exit', (code, signal) => {
      for (const stream of ['stdout', 'stderr'] as const) if (partial[stream] !== '') options.onLine?.(partial[stream]);
      if (ready && !ending) options.onCrash?.(code, signal);
    });
    let ready = false;
    ending = false;
    await new Promise<void>((resolve, reject) => {
      const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
      const timer = setTimeout(() => reject(new Error(`instance on port ${port} not ready after ${readyTimeoutMs} ms:\n${mine.slice(-2000)}`)), readyTimeoutMs);
      const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
        const text = chunk.toString();
        output += text;
        lines(stream, text);
        if (ready) return;
        mine += text;
        if (mine.includes('dokubox is running')) {
          ready = true;
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout?.on('data', onData('stdout'));
      proc.stderr?.on('data', onData('stderr'));
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`instance on port ${port} exited (${code ?? signal}) before it was ready:\n${mine.slice(-2000)}`));
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
      ending = true;
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      const proc = child;
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
      const exited = once(proc, 'exit') as Promise<[number | null]>;
      ending = true;
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
