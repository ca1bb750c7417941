/**
 * The zero-config start as a newcomer runs it: a real process, a private
 * redis-server, printed URLs, graceful shutdown on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/cli/redis-server.js';
import { notice, testApiKeys } from '../support/harness.js';


function run(env: Record<string, string | undefined>, options: { ownProcessGroup?: boolean } = {}) {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) clean[k] = v;
  for (const k of ['REDIS_URL', 'SECRET_KEY', 'PII_KEY', 'API_KEYS']) if (env[k] === undefined) delete clean[k];
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/start.ts'], { env: clean, stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownProcessGroup === true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, out: () => stdout, err: () => stderr };
}

describe('npm start', () => {
  it('runs with nothing configured: private Redis, printed URLs and keys, ready, reports to the simulated case system, and stops cleanly on SIGTERM', async () => {
    const varDir = mkdtempSync(join(tmpdir(), 'dokubox-var-'));
    const port = await freePort();
    const proc = run({ PORT: String(port), VAR_DIR: varDir, LOG_LEVEL: 'warn' });
    try {
      await new Promise<void>((resolve, reject) => {
        proc.child.stdout.on('data', () => {
          if (proc.out().includes('dokubox is running')) resolve();
        });
        proc.child.once('exit', (code) => reject(new Error(`exited ${code}: ${proc.err()}`)));
      });
      expect(proc.out()).toContain(`http://127.0.0.1:${port}/docs`);
      // The banner begins with the simulator's console; the world's time is the middleware's simulated clock.
      const consoleUrl = /simulator console {2}(http:\/\/\S+)\//.exec(proc.out())?.[1];
      expect(proc.out().trim().split('\n').find((l) => !l.startsWith('─') && !l.startsWith('{') && l.trim() !== '')).toMatch(/^simulator console/);
      expect(await (await fetch(`${consoleUrl ?? ''}/api/clock`)).json()).toMatchObject({ simulated: true, speed: 1 });
      const key = /case-system\s+\S+\s+(dev_\S+)/.exec(proc.out())?.[1];
      expect(key).toBeDefined();
      expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).toEqual({ status: 'ok', redis: 'ok' });
      const boxes = await fetch(`http://127.0.0.1:${port}/v1/boxes`, { headers: { authorization: `Bearer ${key}` } });
      expect(boxes.status).toBe(200);
      // The whole chain works as started: a notice becomes a status report at the simulated case system.
      const created = await fetch(`http://127.0.0.1:${port}/v1/notices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(notice()),
      });
      expect(created.status).toBe(201);
      const pickupId = ((await created.json()) as { pickup: { id: string } }).pickup.id;
      const reportsUrl = /simulator case-system status reports: (\S+)/.exec(proc.out())?.[1];
      expect(reportsUrl).toBeDefined();
      const deadline = Date.now() + 15_000;
      let reports: { pickupId: string; status: string }[] = [];
      while (!reports.some((r) => r.pickupId === pickupId) && Date.now() < deadline) {
        reports = (await (await fetch(`${reportsUrl}reports`)).json()) as typeof reports;
        if (!reports.some((r) => r.pickupId === pickupId)) await new Promise((resolve) => setTimeout(resolve, 50)); // polling another process
      }
      expect(reports.find((r) => r.pickupId === pickupId)?.status).toBe('reserved');
      proc.child.kill('SIGTERM');
      const [code] = (await once(proc.child, 'exit')) as [number];
      expect(code).toBe(0);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      rmSync(varDir, { recursive: true, force: true });
    }
  });

  it('in a terminal: readable quiet logs, the banner set off, and Ctrl-C stops everything in order with Redis last', async () => {
    const varDir = mkdtempSync(join(tmpdir(), 'dokubox-var-'));
    const port = await freePort();
    // Its own process group, like a shell's foreground job: Ctrl-C signals every process in it.
    const proc = run({ PORT: String(port), VAR_DIR: varDir, LOG_LEVEL: undefined, LOG_FORMAT: undefined, NODE_ENV: undefined }, { ownProcessGroup: true });
    try {
      await new Promise<void>((resolve, reject) => {
        proc.child.stdout.on('data', () => {
          if (/dokubox is running[\s\S]*─{20,}\n\n/.test(proc.out())) resolve();
        });
        proc.child.once('exit', (code) => reject(new Error(`exited ${code}: ${proc.err()}`)));
      });
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      process.kill(-(proc.child.pid as number), 'SIGINT');
      const [code] = (await once(proc.child, 'exit')) as [number];
      expect(code, proc.out() + proc.err()).toBe(0);
      const output = proc.out() + proc.err();
      expect(output).not.toMatch(/shutdown took too long|ECONNREFUSED|Connection is closed/);
      // Readable lines, not JSON; no line per lock board; one line for the request.
      expect(output).not.toMatch(/^\{"level"/m);
      expect(output).not.toMatch(/lock board answers|lock board online/);
      expect(output).toMatch(/INFO.*request/);
      expect(output).toMatch(/INFO.*shutting down/);
      // The private redis-server went down with it (after the service, by the service).
      const redisPort = /private redis-server on redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect(Number(redisPort), '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
      // ...stopped by the service once it had closed (SIGTERM), not killed by the keystroke (SIGINT).
      const redisLog = readFileSync(join(varDir, 'redis', 'redis.log'), 'utf8');
      expect(redisLog).toMatch(/Received SIGTERM/);
      expect(redisLog).not.toMatch(/Received SIGINT/);
    } finally {
      if (proc.child.exitCode === null) process.kill(-(proc.child.pid as number), 'SIGKILL');
      rmSync(varDir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a wrong value and names the variable', async () => {
    const proc = run({ PORT: 'eighty', REDIS_URL: 'redis://127.0.0.1:1', SECRET_KEY: undefined });
    const [code] = (await once(proc.child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(proc.err()).toMatch(/PORT/);
    expect(proc.err()).not.toMatch(/at .*\.ts:\d+/);
  });

  it('refuses a production start without an SMS gateway in one line naming SMS_GATEWAY', async () => {
    const proc = run({ NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:1', SECRET_KEY: Buffer.alloc(32, 1).toString('base64'), PII_KEY: Buffer.alloc(32, 2).toString('base64') });
    const [code] = (await once(proc.child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(proc.err().trim().split('\n')).toHaveLength(1);
    expect(proc.err()).toMatch(/^dokubox cannot start: .*SMS_GATEWAY: must be seven or smpp in production/);
  });

  it('starts no simulated world in production: no console, no simulated lock boards, phones or case system', async () => {
    const port = await freePort();
    const proc = run({
      NODE_ENV: 'production',
      PORT: String(port),
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: `prod-${port}`,
      SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
      PII_KEY: Buffer.alloc(32, 2).toString('base64'),
      API_KEYS: testApiKeys(),
      SMS_GATEWAY: 'seven',
      SEVEN_API_KEY: 'not-used-in-this-test',
      LOG_LEVEL: 'warn',
    });
    try {
      await new Promise<void>((resolve, reject) => {
        proc.child.stdout.on('data', () => {
          if (proc.out().includes('dokubox is running')) resolve();
        });
        proc.child.once('exit', (code) => reject(new Error(`exited ${code}: ${proc.err()}`)));
      });
      expect(proc.out()).not.toMatch(/simulator|console/i);
      // The kiosk may be framed only by itself: no console origin was added.
      const kiosk = await fetch(`http://127.0.0.1:${port}/kiosk`);
      expect(kiosk.headers.get('content-security-policy')).toContain("frame-ancestors 'self';");
    } finally {
      if (proc.child.exitCode === null) {
        proc.child.kill('SIGTERM');
        await once(proc.child, 'exit');
      }
    }
  });

  it('explains in one line how to get Redis when redis-server is missing', async () => {
    const proc = run({ REDIS_SERVER_BIN: '/nonexistent/redis-server', VAR_DIR: join(tmpdir(), 'dokubox-none') });
    const [code] = (await once(proc.child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(proc.err().trim().split('\n')).toHaveLength(1);
    expect(proc.err()).toMatch(/apt-get install -y redis-server|REDIS_URL/);
  });
});
