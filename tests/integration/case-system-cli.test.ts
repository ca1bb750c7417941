/**
 * The case-system command line as the README shows it (`npm run case-system
 * -- ...`) against a running service: help, wrong usage, notices in both
 * formats against the shipped box, and exit codes that say failure.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createDokubox, PROJECT_ROOT, type Dokubox } from '../../src/main.js';
import { testEnv } from '../support/harness.js';

let dokubox: Dokubox;
let base: string;

beforeAll(async () => {
  const clients = [{ id: 'sim', authority: 'magdeburg-abh', basic: { username: 'sim-magdeburg-abh', passwordSha256: createHash('sha256').update('cli-password').digest('hex') } }];
  // The shipped box file (md-foyer of magdeburg-abh), as npm start has it.
  const config = loadConfig(testEnv(inject('redisUrl'), { PORT: '0', BOXES_DIR: 'mappings/boxes', CASE_SYSTEM_CLIENTS: JSON.stringify(clients) }));
  dokubox = await createDokubox(config, { logger: pino({ level: 'silent' }), background: false });
  base = (await dokubox.listen()).url;
});

afterAll(async () => {
  const keys = await dokubox.redis.keys(`${dokubox.config.REDIS_KEY_PREFIX}:*`);
  if (keys.length > 0) await dokubox.redis.del(...keys);
  await dokubox.close();
});

async function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn('npm', ['run', '--silent', 'case-system', '--', ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

describe('npm run case-system', () => {
  it('prints its usage with --help and exits 0', async () => {
    const { code, out } = await cli('--help');
    expect(code).toBe(0);
    expect(out).toMatch(/usage: npm run case-system -- <command>/);
  });

  it('answers wrong usage with a message and the usage, exit code 2, no stack trace', async () => {
    const unknownOption = await cli('notify', '--frobnicate');
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.err).toMatch(/frobnicate/);
    expect(unknownOption.err).not.toMatch(/\n\s+at /);
    const noCommand = await cli();
    expect(noCommand.code).toBe(2);
  });

  it('sends notices to the shipped box in the canonical format and says so, exit code 0', async () => {
    const { code, out, err } = await cli('notify', '--base', base, '--user', 'sim-magdeburg-abh', '--password', 'cli-password', '--count', '2');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/SIM-\w+-000000 -> \S+ \(created, reserved\)/);
    expect(out).toMatch(/2 notices in \d+ ms/);
  });

  it('sends a renewal with the old card\'s CAN (--renewal --can), and a CAN without --renewal is refused with exit code 1', async () => {
    const login = ['--base', base, '--user', 'sim-magdeburg-abh', '--password', 'cli-password'];
    const { code, out, err } = await cli('notify', ...login, '--renewal', '--can', '482913');
    expect(err).toBe('');
    expect(code).toBe(0);
    const pickupId = /-> (\S+) \(created/.exec(out)?.[1];
    const stored = await dokubox.store.get(pickupId ?? '');
    expect(stored?.renewal).toBe(true);
    expect(stored?.canHash).toMatch(/^[0-9a-f]{64}$/);
    const xoev = await cli('notify', ...login, '--format', 'xoev', '--renewal', '--can', '482913');
    expect(xoev.code).toBe(0);
    const refused = await cli('notify', ...login, '--can', '482913');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/VALIDATION_FAILED|oldCardCan/);
  });

  it('sends the XÖV format, and a refused notice ends with exit code 1', async () => {
    const ok = await cli('notify', '--base', base, '--user', 'sim-magdeburg-abh', '--password', 'cli-password', '--format', 'xoev');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^200 /);
    const refused = await cli('notify', '--base', base, '--user', 'sim-magdeburg-abh', '--password', 'cli-password', '--format', 'xoev', '--box', 'no-such-box');
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/^422 /);
  });

  it('fails with exit code 1 and one line when the service refuses the login', async () => {
    const { code, err } = await cli('notify', '--base', base, '--user', 'sim-magdeburg-abh', '--password', 'wrong');
    expect(code).toBe(1);
    expect(err.trim().split('\n')).toHaveLength(1);
  });
});
