/**
 * Cold start: milliseconds from spawning a service process to its first
 * `/readyz` 200, for the compiled build (`node dist/src/cli/start.js`, what
 * the container runs) and, for comparison, the TypeScript sources through
 * tsx. The service is a separate process; this process spawns it and polls
 * `/readyz` every 10 ms. Every run restarts the same deployment (same Redis,
 * same key prefix, the 456-compartment box of mappings/boxes), as a restart
 * after a crash or a deployment would. On Linux the service's CPU time up to
 * readiness is shown too: it says more than wall time on a busy machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { COMPILED_ENTRY, compiledIsCurrent } from '../src/cli/compiled.js';
import { freePort } from '../src/cli/redis-server.js';
import { sha256Hex } from '../src/http/auth.js';
import { PROJECT_ROOT } from '../src/project-root.js';

const POLL_MS = 10;
const GIVE_UP_MS = 60_000;

interface Entry {
  name: string;
  args: string[];
}

/** Runs `npm run build` (tsc -b tsconfig.build.json) when dist/ is missing or older than the sources. */
function build(): string {
  if (compiledIsCurrent()) return 'current, not rebuilt';
  const tsc = createRequire(join(PROJECT_ROOT, 'package.json')).resolve('typescript/bin/tsc');
  const started = performance.now();
  const result = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
  return `built by npm run build in ${((performance.now() - started) / 1000).toFixed(1)} s`;
}

/** User + system CPU time of a live process in ms (Linux), or undefined. */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
}

async function readyOnce(entry: Entry, env: Record<string, string>): Promise<{ ms: number; cpu: number | undefined }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, entry.args, { cwd: PROJECT_ROOT, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${entry.name} exited with ${child.exitCode} before it was ready:\n${stderr.slice(-2000)}`);
      if (performance.now() - started > GIVE_UP_MS) throw new Error(`${entry.name} not ready after ${GIVE_UP_MS} ms:\n${stderr.slice(-2000)}`);
      const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return { ms: performance.now() - started, cpu: cpuMs(child.pid) };
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export async function benchColdstart(redisUrl: string, runs: number): Promise<string> {
  const lines = [`coldstart: spawn -> first /readyz 200, ${runs} runs each (Redis up, NODE_ENV=production, 456-compartment box, lockers off)`, `  dist/: ${build()}`];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    SECRET_KEY: randomBytes(32).toString('base64'),
    PII_KEY: randomBytes(32).toString('base64'),
    API_KEYS: JSON.stringify([{ id: 'bench', role: 'admin', authority: 'magdeburg-abh', sha256: sha256Hex(randomBytes(16).toString('hex')) }]),
    LOCKERS_ENABLED: 'false',
    SMS_DEV_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'warn',
  });
  const entries: Entry[] = [
    { name: 'compiled', args: [relative(PROJECT_ROOT, COMPILED_ENTRY)] },
    { name: 'tsx', args: ['--import', 'tsx', join('src', 'cli', 'start.ts')] },
  ];
  for (const entry of entries) {
    const prefix = `bench-cold-${entry.name}-${randomBytes(3).toString('hex')}`;
    const results: { ms: number; cpu: number | undefined }[] = [];
    for (let i = 0; i < runs; i += 1) results.push(await readyOnce(entry, { ...env, REDIS_KEY_PREFIX: prefix }));
    const ms = results.map((r) => r.ms);
    const cpu = results.map((r) => r.cpu).filter((c): c is number => c !== undefined);
    const command = `node ${entry.args.join(' ')}`;
    lines.push(
      `  ${entry.name.padEnd(9)} ${command.padEnd(36)} median ${median(ms).toFixed(0).padStart(5)} ms, max ${Math.max(...ms).toFixed(0).padStart(5)} ms` +
        (cpu.length === results.length ? `  (CPU to ready: median ${median(cpu).toFixed(0)} ms)` : ''),
    );
  }
  return lines.join('\n');
}
