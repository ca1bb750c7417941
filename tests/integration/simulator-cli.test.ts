/**
 * `npm run simulator`: the simulated world alone, as a separate process,
 * against a middleware started elsewhere and configured with what the
 * simulator printed. A notice sent through the world's console API comes
 * back as a `reserved` status report; the lock boards are the simulator's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/cli/redis-server.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createDokubox, PROJECT_ROOT, type Dokubox } from '../../src/main.js';
import { parseSimulatorArgs } from '../../simulator/cli.js';
import { KEYS, testEnv } from '../support/harness.js';

let child: ChildProcess;
let dokubox: Dokubox;
let consoleUrl: string;
let printed: string[] = [];
const stateDir = mkdtempSync(join(tmpdir(), 'dokubox-sim-'));
const prefix = `simcli-${randomUUID().slice(0, 8)}`;

/** Starts `npm run simulator`'s entry as a child; resolves with every line up to the end of its banner. */
async function startSimulatorProcess(args: string[]): Promise<string[]> {
  child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'simulator', 'cli.ts'), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, NODE_ENV: 'development' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout! });
  for await (const line of reader) {
    lines.push(line);
    // The banner ends with its notes; without --staff-key the last says so.
    if (line.startsWith('  (no --staff-key')) break;
  }
  return lines;
}

beforeAll(async () => {
  let middlewarePort = 0;
  // A free port is free when asked, not necessarily when the child binds it (another test process may take it
  // in between): a child that could not listen ends before its banner, and is started again on other ports.
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    middlewarePort = await freePort();
    const worldPort = await freePort();
    printed = await startSimulatorProcess(['--redis', inject('redisUrl'), '--redis-prefix', prefix, '--middleware', `http://127.0.0.1:${middlewarePort}`, '--case-user', 'sim-case', '--case-password', 'correct horse battery', '--port', String(worldPort), '--state-dir', stateDir, '--signing-secret', 'test-signing-secret']);
    if (printed.some((line) => line.startsWith('  (no --staff-key'))) break;
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
  consoleUrl = /^simulator console {2}(http:\/\/\S+)\/$/.exec(printed[0] ?? '')?.[1] ?? '';
  const env = Object.fromEntries(printed.flatMap((l) => { const m = /^ {2}([A-Z_]+)='(.*)'$/.exec(l); return m ? [[m[1] as string, m[2] as string]] : []; }));
  dokubox = await createDokubox(
    loadConfig(
      testEnv(inject('redisUrl'), {
        ...env,
        BOXES_DIR: 'mappings/boxes',
        LOCKERS_ENABLED: 'true',
        HOST: '127.0.0.1',
        PORT: String(middlewarePort),
        CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'sim-case', authority: 'magdeburg-abh', basic: { username: 'sim-case', passwordSha256: createHash('sha256').update('correct horse battery').digest('hex') } }]),
        SMS_QUIET_HOURS: 'off',
        REDIS_KEY_PREFIX: prefix,
        SIMULATED_TIME: 'true',
      }),
    ),
    { logger: createLogger({ level: 'warn' }) },
  );
  await dokubox.listen();
}, 60_000);

afterAll(async () => {
  await dokubox?.close();
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  rmSync(stateDir, { recursive: true, force: true });
});

describe('npm run simulator', () => {
  it('prints the console first, then the variables for the middleware at fixed ports', () => {
    expect(printed[0]).toMatch(/^simulator console {2}http:\/\/127\.0\.0\.1:\d+\/$/);
    const text = printed.join('\n');
    for (const name of ['LOCKER_ENDPOINTS', 'SMS_GATEWAY', 'SMS_DEV_URL', 'SEVEN_WEBHOOK_SECRET', 'CASE_SYSTEM_CALLBACKS', 'KIOSK_FRAME_ANCESTORS']) expect(text).toContain(`  ${name}=`);
    // The login was given: the middleware knows it already, so the simulator does not print one.
    expect(text).not.toContain('CASE_SYSTEM_CLIENTS=');
    expect(text).toContain('no --staff-key given');
  });

  it('sends a notice through the world to the middleware and records the reserved report the middleware sends back', async () => {
    const events = await fetch(`${consoleUrl}/api/events`);
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
    const sent = await fetch(`${consoleUrl}/api/notices`, { method: 'POST', headers: { 'content-type': 'application/json', origin: consoleUrl }, body: JSON.stringify({ boxId: 'md-foyer' }) });
    expect(sent.status).toBe(200);
    const [notice] = ((await sent.json()) as { sent: { outcome: string; pickupId: string }[] }).sent;
    expect(notice?.outcome).toBe('created');
    // Waits for the world to say its reports changed, then reads them.
    for (;;) {
      const { value } = await reader.read();
      if (value?.includes('"reports"')) {
        const world = (await (await fetch(`${consoleUrl}/api/world`)).json()) as { reports: { pickupId: string; status: string }[] };
        if (world.reports.some((r) => r.pickupId === notice?.pickupId && r.status === 'reserved')) break;
      }
    }
    await reader.cancel();
    const pickup = await dokubox.app.request(`/v1/pickups/${notice?.pickupId ?? ''}`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
    expect(((await pickup.json()) as { state: string }).state).toBe('reserved');
  });

  it('shares the world clock with the middleware: a jump from the console moves the middleware\'s time', async () => {
    const jump = await fetch(`${consoleUrl}/api/clock`, { method: 'PUT', headers: { 'content-type': 'application/json', origin: consoleUrl }, body: JSON.stringify({ at: '2027-03-01T09:00:00+01:00', speed: 0 }) });
    expect(jump.status).toBe(200);
    expect(await jump.json()).toMatchObject({ simulated: true, speed: 0, now: Date.parse('2027-03-01T08:00:00Z') });
    // The middleware hears the change on its subscription; a read after it settles shows the same moment.
    await dokubox.worldClock!.refresh();
    expect(dokubox.clock.now()).toBe(Date.parse('2027-03-01T08:00:00Z'));
  });

  it('refuses a command line without the middleware and says what to give', () => {
    expect(() => parseSimulatorArgs([])).toThrow(/--middleware is required/);
    expect(() => parseSimulatorArgs(['--middleware', 'ftp://x'])).toThrow(/http:\/\/ or https:\/\//);
    expect(() => parseSimulatorArgs(['--middleware', 'http://x', '--case-user', 'u'])).toThrow(/go together/);
    expect(() => parseSimulatorArgs(['--middleware', 'http://x', '--port', '80'])).toThrow(/between 1024 and 65000/);
    expect(() => parseSimulatorArgs(['--middleware', 'http://x', '--bogus'])).toThrow(/bogus/);
    expect(() => parseSimulatorArgs(['--middleware', 'http://x', '--redis', 'localhost:6379'])).toThrow(/redis:\/\//);
    expect(() => parseSimulatorArgs(['--middleware', 'http://x', '--redis-prefix', 'p'])).toThrow(/needs --redis/);
  });
});
