/**
 * Efficiency of notice ingest against a floor, measured side by side in one
 * run (issue 13). Two servers, each a process of its own with a private
 * redis-server of its own: dokubox (bench/processes/dokubox-server.ts) and the
 * floor (bench/processes/floor-server.ts: node-soap or Hono JSON, one SET NX,
 * one BullMQ add). The load generator (bench/processes/load.ts, autocannon) is
 * a third process. Steps alternate between the two servers (A/B, then B/A)
 * and every figure is the median over BENCH_EFFICIENCY_REPEATS rounds:
 * server CPU per notice from /proc/<pid>/stat (utime + stime, including what
 * the server finishes after the load stops: outbox consumers), Redis CPU per
 * notice from INFO cpu, Redis commands per notice from INFO commandstats
 * (commands run by scripts included), notices/s at saturation, p50/p99 at
 * fixed rates. Ratios are dokubox / floor. Asserts nothing.
 *
 * The servers run as production runs the service: tsc's JavaScript in dist/
 * (built first, incrementally); BENCH_EFFICIENCY_RUNTIME=tsx runs the sources
 * through tsx instead. BENCH_EFFICIENCY_PIN=1 pins the servers to the last
 * core and the rest to the others (less noise between rounds);
 * BENCH_EFFICIENCY_AGAINST=<directory> measures dokubox against the dokubox of
 * another checkout (e.g. a git worktree of the commit before a change) instead
 * of the floor. BENCH_PROFILE=1 starts dokubox with node's --cpu-prof
 * (profiles written to BENCH_PROFILE_DIR, default ./var/profiles, when the
 * server exits).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sha256Hex } from '../src/http/auth.js';
import { PROJECT_ROOT } from '../src/project-root.js';
import { startPrivateRedis, type PrivateRedis } from '../src/cli/redis-server.js';
import { callDelta, commandCalls, fmt, median, parseInfo, procCpuMicros, ratio, redisCpuMicros, totalCalls } from './efficiency-stats.js';

export interface EfficiencyOptions {
  seconds: number;
  repeats: number;
  /** Scenario names to run (default all). */
  scenarios?: string[];
  profile?: { dir: string };
  /**
   * Pin the servers to the last core and everything else (load generator, Redis, this process) to the
   * others with taskset (BENCH_EFFICIENCY_PIN=1): less noise for A/B experiments on two cores.
   */
  pin?: boolean;
  /**
   * Instead of the floor, measure dokubox against another checkout of itself (BENCH_EFFICIENCY_AGAINST=<directory>,
   * e.g. a git worktree of the commit before a change): the "floor" column is then that checkout's dokubox.
   */
  against?: string;
  /**
   * How the servers run: `compiled` (default; tsc's JavaScript in dist/, as production runs the service:
   * `node dist/src/cli/start.js`) or `tsx` (the TypeScript sources through tsx, as `npm start` does).
   * BENCH_EFFICIENCY_RUNTIME. Compiled, each checkout is built first (`tsc -b`, incremental).
   */
  runtime?: 'compiled' | 'tsx';
}

interface Scenario {
  name: string;
  kind: 'soap' | 'rest';
  /** 0 = saturation. */
  rate: number;
}

export const SCENARIOS: Scenario[] = [
  { name: 'soap-sat', kind: 'soap', rate: 0 },
  { name: 'soap-800', kind: 'soap', rate: 800 },
  { name: 'soap-500', kind: 'soap', rate: 500 },
  { name: 'soap-200', kind: 'soap', rate: 200 },
  { name: 'rest-sat', kind: 'rest', rate: 0 },
  { name: 'rest-1500', kind: 'rest', rate: 1500 },
];

interface Target {
  name: 'dokubox' | 'floor';
  process: ChildProcess;
  url: string;
  redis: PrivateRedis;
  client: Redis;
  headers: { soap: Record<string, string>; rest: Record<string, string> };
}

export interface StepResult {
  ok: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
  redisCpuUs: number;
  commands: number;
  perCommand: Map<string, number>;
}

const AUTHORITY = 'magdeburg-abh';
const BOX = 'md-foyer';
const CONNECTIONS = 32;

/** The load generator runs under tsx (its CPU is not measured). */
function tsxArgs(script: string): string[] {
  return ['--import', 'tsx', join(PROJECT_ROOT, script)];
}

/** Compiles a checkout to its dist/ (the whole project, bench/ included: `npm run typecheck`'s tsc -b, incremental). */
function compile(root: string): void {
  const tsc = createRequire(join(PROJECT_ROOT, 'package.json')).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc -b failed in ${root}:\n${result.stdout}${result.stderr}`);
}

async function startServer(
  script: string,
  env: Record<string, string>,
  logFile: string,
  options: { nodeArgs?: string[]; root?: string; runtime: 'compiled' | 'tsx' },
): Promise<{ process: ChildProcess; url: string }> {
  const root = options.root ?? PROJECT_ROOT;
  const log = openSync(logFile, 'a');
  const entry = options.runtime === 'compiled' ? [join(root, 'dist', script.replace(/\.ts$/, '.js'))] : ['--import', 'tsx', join(root, script)];
  const nodeArgs = options.nodeArgs ?? [];
  const child = spawn(process.execPath, [...nodeArgs, ...entry], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', log, 'inherit', 'ipc'] });
  closeSync(log);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 60 s`)), 60_000);
    child.once('message', (message: { url?: string }) => {
      clearTimeout(timer);
      if (typeof message.url === 'string') resolve(message.url);
      else reject(new Error(`${script} sent no URL`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${String(code)} before it listened`));
    });
  });
  return { process: child, url };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Restricts a process (all its threads) to the CPUs in `list` (taskset's syntax, e.g. "0" or "0-2"). */
function pinTo(pid: number, list: string): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`taskset could not pin process ${pid} to CPUs ${list} (is util-linux installed?)`);
}

function cpuOf(pid: number): number {
  return procCpuMicros(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

async function redisSnapshot(client: Redis): Promise<{ cpu: number; calls: Map<string, number> }> {
  const info = parseInfo(await client.info('everything'));
  return { cpu: redisCpuMicros(info), calls: commandCalls(info) };
}

async function runLoad(options: Record<string, unknown>): Promise<{ ok: number; non2xx: number; errors: number; seconds: number; p50: number; p99: number; rps: number }> {
  const child = spawn(process.execPath, tsxArgs('bench/processes/load.ts').concat(JSON.stringify(options)), { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited with ${String(code)}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as never;
}

/** Waits until the server is nearly idle (what it finishes after the load, e.g. outbox consumers, is its cost too). */
async function settle(pid: number): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const before = cpuOf(pid);
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (cpuOf(pid) - before < 25_000) return; // under 10 % of a core
  }
}

let stepCounter = 0;

async function step(target: Target, scenario: Scenario, seconds: number, run: string): Promise<StepResult> {
  const pid = target.process.pid as number;
  await settle(pid);
  const cpu0 = cpuOf(pid);
  const redis0 = await redisSnapshot(target.client);
  stepCounter += 1;
  const load = await runLoad({
    url: `${target.url}${scenario.kind === 'soap' ? '/soap/v1/pickup' : '/v1/notices'}`,
    kind: scenario.kind,
    headers: target.headers[scenario.kind],
    rate: scenario.rate,
    seconds,
    connections: CONNECTIONS,
    run: `${run}-${stepCounter}`,
    authority: AUTHORITY,
    boxId: BOX,
  });
  await settle(pid);
  const cpu1 = cpuOf(pid);
  const redis1 = await redisSnapshot(target.client);
  const perCommand = callDelta(redis0.calls, redis1.calls);
  // INFO itself is not the server's work.
  perCommand.delete('info');
  const ok = load.ok;
  return {
    ok,
    errors: load.errors + load.non2xx,
    rps: ok / (load.seconds || seconds),
    p50: load.p50,
    p99: load.p99,
    cpuUs: (cpu1 - cpu0) / ok,
    redisCpuUs: (redis1.cpu - redis0.cpu) / ok,
    commands: totalCalls(perCommand) / ok,
    perCommand,
  };
}

export async function benchEfficiency(options: EfficiencyOptions): Promise<string[]> {
  const scenarios = SCENARIOS.filter((s) => options.scenarios === undefined || options.scenarios.includes(s.name));
  const run = randomBytes(3).toString('hex');
  const logDir = join(tmpdir(), `dokubox-bench-${run}`);
  mkdirSync(logDir, { recursive: true });
  const apiKey = `bench-${randomBytes(16).toString('hex')}`;
  const basic = `Basic ${Buffer.from('bench:bench-password').toString('base64')}`;
  const targets: Target[] = [];
  const redises: PrivateRedis[] = [];
  try {
    const dokuRedis = await startPrivateRedis();
    redises.push(dokuRedis);
    const floorRedis = await startPrivateRedis();
    redises.push(floorRedis);
    const nodeArgs = options.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profile.dir}`];
    const dokuEnv = (redisUrl: string): Record<string, string> => ({
      NODE_ENV: 'test',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `bench-${run}`,
      PORT: '0',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      SECRET_KEY: randomBytes(32).toString('base64'),
      PII_KEY: randomBytes(32).toString('base64'),
      API_KEYS: JSON.stringify([{ id: 'bench', role: 'case-system', authority: AUTHORITY, sha256: sha256Hex(apiKey) }]),
      CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'bench-soap', authority: AUTHORITY, basic: { username: 'bench', passwordSha256: createHash('sha256').update('bench-password').digest('hex') } }]),
      SMS_DEV_URL: 'http://127.0.0.1:9',
      LOCKERS_ENABLED: 'false',
    });
    const dokuHeaders = { soap: { authorization: basic }, rest: { authorization: `Bearer ${apiKey}` } };
    const runtime = options.runtime ?? 'compiled';
    if (runtime === 'compiled') for (const root of [PROJECT_ROOT, ...(options.against === undefined ? [] : [options.against])]) compile(root);
    const doku = await startServer('bench/processes/dokubox-server.ts', dokuEnv(dokuRedis.url), join(logDir, 'dokubox.log'), { nodeArgs, runtime });
    targets.push({ name: 'dokubox', ...doku, redis: dokuRedis, client: new Redis(dokuRedis.url), headers: dokuHeaders });
    if (options.against === undefined) {
      const floor = await startServer('bench/processes/floor-server.ts', { REDIS_URL: floorRedis.url }, join(logDir, 'floor.log'), { runtime });
      targets.push({ name: 'floor', ...floor, redis: floorRedis, client: new Redis(floorRedis.url), headers: { soap: {}, rest: {} } });
    } else {
      const other = await startServer('bench/processes/dokubox-server.ts', dokuEnv(floorRedis.url), join(logDir, 'against.log'), { root: options.against, runtime });
      targets.push({ name: 'floor', ...other, redis: floorRedis, client: new Redis(floorRedis.url), headers: dokuHeaders });
    }
    if (options.pin === true) {
      const last = availableParallelism() - 1;
      if (last < 1) throw new Error('BENCH_EFFICIENCY_PIN needs at least two CPUs');
      const others = last === 1 ? '0' : `0-${last - 1}`;
      // Children started from here on (the load generator) inherit this process's CPUs.
      for (const pid of [process.pid, dokuRedis.pid, floorRedis.pid]) pinTo(pid, others);
      for (const target of targets) pinTo(target.process.pid as number, String(last));
    }

    // Other work on the machine shows in every figure (the ratios cancel only part of it): the load average is printed with them.
    const loadBefore = loadavg()[0] ?? 0;
    // Warm-up (JIT, connections, pools) of the kinds the scenarios use: not measured.
    const kinds = [...new Set(scenarios.map((s) => s.kind))];
    for (const target of targets) for (const kind of kinds) await step(target, { name: 'warmup', kind, rate: 0 }, 2, `warm-${run}`);

    const results = new Map<string, { dokubox: StepResult[]; floor: StepResult[] }>();
    for (const scenario of scenarios) results.set(scenario.name, { dokubox: [], floor: [] });
    for (let round = 0; round < options.repeats; round++) {
      for (const scenario of scenarios) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) results.get(scenario.name)?.[target.name].push(await step(target, scenario, options.seconds, run));
      }
    }
    return report(results, options, [loadBefore, loadavg()[0] ?? 0]);
  } finally {
    for (const target of targets) {
      target.client.disconnect();
      await stopServer(target.process);
    }
    for (const redis of redises) await redis.stop();
  }
}

function report(results: Map<string, { dokubox: StepResult[]; floor: StepResult[] }>, options: EfficiencyOptions, load: [number, number]): string[] {
  const lines = [
    `efficiency: dokubox against ${options.against === undefined ? 'the floor (node-soap or Hono JSON + SET NX + BullMQ add)' : `the dokubox of ${options.against} (in the floor's column)`}, ${options.runtime === 'tsx' ? 'servers under tsx' : 'servers compiled (dist/)'}, medians of ${options.repeats} alternating rounds of ${options.seconds} s, load from a separate process${options.pin === true ? ', servers pinned to a core of their own' : ''}; load average ${load[0].toFixed(1)} at the start, ${load[1].toFixed(1)} at the end`,
  ];
  lines.push(`  ${'figure'.padEnd(46)} ${'dokubox'.padStart(9)} ${'floor'.padStart(9)} ${'ratio'.padStart(7)}  ratio per round (dokubox's step / the floor's next to it)`);
  const row = (label: string, scenario: string, pick: (r: StepResult) => number, digits = 0): void => {
    const r = results.get(scenario);
    if (r === undefined) return;
    const a = median(r.dokubox.map(pick));
    const b = median(r.floor.map(pick));
    // How far single rounds scatter: the machine's other work moves both servers' figures, not always alike.
    const rounds = r.dokubox.map((d, i) => ratio(pick(d), pick(r.floor[i] as StepResult))).filter(Number.isFinite);
    const spread = rounds.length > 1 ? `  ${fmt(Math.min(...rounds), 2)} to ${fmt(Math.max(...rounds), 2)}` : '';
    lines.push(`  ${label.padEnd(46)} ${fmt(a, digits).padStart(9)} ${fmt(b, digits).padStart(9)} ${fmt(ratio(a, b), 2).padStart(6)}x${spread}`);
  };
  row('SOAP CPU us per notice at saturation', 'soap-sat', (r) => r.cpuUs);
  row('SOAP notices/s at saturation', 'soap-sat', (r) => r.rps);
  row('SOAP CPU us per notice at 800/s', 'soap-800', (r) => r.cpuUs);
  row('SOAP CPU us per notice at 200/s', 'soap-200', (r) => r.cpuUs);
  row('SOAP p50 ms at 500/s', 'soap-500', (r) => r.p50);
  row('SOAP p99 ms at 500/s', 'soap-500', (r) => r.p99);
  row('REST CPU us per notice at saturation', 'rest-sat', (r) => r.cpuUs);
  row('REST notices/s at saturation', 'rest-sat', (r) => r.rps);
  row('REST CPU us per notice at 1500/s', 'rest-1500', (r) => r.cpuUs);
  row('Redis CPU us per SOAP notice at saturation', 'soap-sat', (r) => r.redisCpuUs);
  row('Redis commands per SOAP notice at saturation', 'soap-sat', (r) => r.commands, 1);
  row('Redis commands per SOAP notice at 200/s', 'soap-200', (r) => r.commands, 1);
  row('Redis commands per REST notice at saturation', 'rest-sat', (r) => r.commands, 1);
  const errors = [...results.values()].flatMap((r) => [...r.dokubox, ...r.floor]).reduce((sum, r) => sum + r.errors, 0);
  lines.push(`  failed or non-2xx requests in all steps: ${errors}`);
  // Which commands a dokubox notice costs (the median round's, at 200/s where the outbox shows most).
  const light = results.get('soap-200')?.dokubox ?? results.get('soap-sat')?.dokubox;
  const sample = light?.[Math.floor((light.length - 1) / 2)];
  if (sample !== undefined) {
    const top = [...sample.perCommand].sort((a, b) => b[1] - a[1]).map(([name, calls]) => `${name} ${(calls / sample.ok).toFixed(2)}`);
    lines.push(`  dokubox Redis commands per notice by name: ${top.join(', ')}`);
  }
  return lines;
}
