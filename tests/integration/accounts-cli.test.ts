import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PersonAccounts } from '../../src/accounts/accounts.js';
import { PersonSessions } from '../../src/accounts/sessions.js';
import { runAccountsCli } from '../../src/cli/accounts.js';
import { kioskRedis, type KioskRedis } from '../support/kiosk-redis.js';

const PW = 'first admin password';
const T0 = Date.parse('2026-03-02T09:00:00Z');

let store: KioskRedis;
let accounts: PersonAccounts;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tsx src/cli/accounts.ts ...args` (what `npm run accounts --` runs) with `stdin` piped in, against the test Redis under its own prefix. */
function cli(args: string[], stdin = '', env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/accounts.ts', ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', REDIS_URL: store.url, REDIS_KEY_PREFIX: store.ns, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** The same command in this process (quick, for the many refusals). */
async function inProcess(args: string[], stdin = '', env: Record<string, string | undefined> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        append(chunk.toString());
        callback();
      },
    });
  const code = await runAccountsCli(args, {
    stdin: Readable.from(stdin === '' ? [] : [Buffer.from(stdin)]),
    stdout: sink((t) => (stdout += t)),
    stderr: sink((t) => (stderr += t)),
    env: { NODE_ENV: 'test', REDIS_URL: store.url, REDIS_KEY_PREFIX: store.ns, ...env },
  });
  return { code, stdout, stderr };
}

beforeAll(() => {
  store = kioskRedis('accounts-cli');
  accounts = new PersonAccounts(store.redis, store.ns);
});

afterAll(async () => {
  await store?.close();
});

describe('npm run accounts', { timeout: 60_000 }, () => {
  it('creates the first admin with the password from stdin, and refuses a second one unless --force', async () => {
    const first = await cli(['create-admin', '--authority', 'magdeburg-abh', '--username', 'M.Schulz', '--name', 'M. Schulz'], `${PW}\n`);
    expect(first).toMatchObject({ code: 0, stdout: 'created m.schulz (admin, magdeburg-abh)\n' });
    expect(await accounts.verify('m.schulz', PW, T0)).toMatchObject({ ok: true, account: { role: 'admin', name: 'M. Schulz' } });
    expect(first.stdout + first.stderr).not.toContain(PW);

    const second = await cli(['create-admin', '--authority', 'magdeburg-abh', '--username', 'k.meyer'], PW);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("ACCOUNT_CONFLICT: Authority 'magdeburg-abh' already has an admin");
    expect(await accounts.get('k.meyer')).toBeUndefined();

    const forced = await cli(['create-admin', '--authority', 'magdeburg-abh', '--username', 'k.meyer', '--force'], PW);
    expect(forced.code).toBe(0);
  });

  it('adds a clerk, lists the authority without hashes, changes role, disables and enables', async () => {
    expect((await cli(['add', '--authority', 'bochum-abh', '--username', 'b.clerk', '--role', 'clerk'], 'clerk password 1\n')).code).toBe(0);
    expect((await inProcess(['add', '--authority', 'bochum-abh', '--username', 'b.admin', '--role', 'admin'], 'admin password 1\n')).code).toBe(0);
    const list = await cli(['list', '--authority', 'bochum-abh']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^b\.admin\tadmin\tenabled\t\d{4}-.*\nb\.clerk\tclerk\tenabled\t/);
    expect(list.stdout).not.toContain('scrypt');
    expect((await inProcess(['set-role', '--username', 'b.clerk', '--role', 'admin'])).stdout).toBe('role changed: b.clerk (admin, bochum-abh)\n');
    expect((await inProcess(['disable', '--username', 'b.clerk'])).stdout).toBe('disabled b.clerk (admin, bochum-abh, disabled); 0 session(s) ended\n');
    expect((await accounts.get('b.clerk'))?.disabled).toBe(true);
    expect((await inProcess(['enable', '--username', 'b.clerk'])).code).toBe(0);
    expect((await accounts.get('b.clerk'))?.disabled).toBeUndefined();
    expect((await inProcess(['list', '--authority', 'nowhere'])).stdout).toBe('no accounts in nowhere\n');
  });

  it('sets a new password and ends the person’s sessions', async () => {
    await accounts.create({ username: 'p.wechsel', authority: 'bochum-abh', role: 'clerk', password: 'old password 123' }, T0);
    const sessions = new PersonSessions(store.redis, store.ns);
    const { token } = await sessions.start({ username: 'p.wechsel', authority: 'bochum-abh', role: 'clerk' }, T0);
    const run = await cli(['passwd', '--username', 'p.wechsel'], 'new password 456\n');
    expect(run).toMatchObject({ code: 0, stdout: 'new password for p.wechsel (clerk, bochum-abh); 1 session(s) ended\n' });
    expect(await sessions.get(token, T0)).toBeUndefined();
    expect(await accounts.verify('p.wechsel', 'new password 456', T0)).toMatchObject({ ok: true });
  });

  it('exits with 1 and the reason when the store refuses, also as a separate process', async () => {
    const run = await cli(['add', '--authority', 'bochum-abh', '--username', 'short.pw', '--role', 'clerk'], 'too short\n');
    expect(run).toMatchObject({ code: 1, stderr: 'VALIDATION_FAILED: The password must have at least 12 characters.\n' });
  });

  it('refuses bad input with a message and exit code 1 (refused) or 2 (usage)', async () => {
    const runs = await Promise.all([
      inProcess(['add', '--authority', 'bochum-abh', '--username', 'short.pw', '--role', 'clerk'], 'too short\n'),
      inProcess(['add', '--authority', 'bochum-abh', '--username', 'own.name', '--role', 'clerk'], 'xx own.name xx 12345\n'),
      inProcess(['add', '--authority', 'bochum-abh', '--username', 'b.clerk', '--role', 'clerk'], 'clerk password 2\n'),
      inProcess(['passwd', '--username', 'nobody.here'], 'some new password\n'),
      inProcess(['add', '--authority', 'bochum-abh', '--username', 'x', '--role', 'clerk'], 'some new password\n'),
      inProcess(['create-admin', '--username', 'no.authority'], PW),
      inProcess(['add', '--authority', 'bochum-abh', '--username', 'r.bad', '--role', 'root'], PW),
      inProcess(['create-admin', '--authority', 'x', '--username', 'pw.argv', PW]),
      inProcess(['create-admin', '--authority', 'x', '--username', 'empty.stdin'], ''),
      inProcess(['create-admin', '--authority', 'x', '--username', 'two.lines'], 'line one is long\nline two is long\n'),
      inProcess(['frobnicate']),
      inProcess(['list', '--authority', 'x', '--colour']),
      inProcess(['list', '--authority', 'x'], '', { REDIS_URL: undefined }),
      inProcess(['list', '--authority', 'bad authority']),
      inProcess([]),
    ]);
    const [short, own, taken, unknown, badName, noAuthority, badRole, argvPw, empty, twoLines, unknownCommand, unknownOption, noRedis, badAuthority, nothing] = runs;
    expect([short?.code, short?.stderr]).toEqual([1, 'VALIDATION_FAILED: The password must have at least 12 characters.\n']);
    expect(own?.stderr).toBe('VALIDATION_FAILED: The password must not contain the username.\n');
    expect([taken?.code, taken?.stderr]).toEqual([1, "ACCOUNT_CONFLICT: The username 'b.clerk' is taken; choose another.\n"]);
    expect([unknown?.code, unknown?.stderr]).toEqual([1, "NOT_FOUND: There is no account 'nobody.here'.\n"]);
    expect(badName?.stderr).toContain('VALIDATION_FAILED: The username must be 3-64 characters');
    expect([noAuthority?.code, noAuthority?.stderr.split('\n')[0]]).toEqual([2, 'Missing --authority.']);
    expect([badRole?.code, badRole?.stderr.split('\n')[0]]).toEqual([2, '--role must be one of: clerk, admin.']);
    expect([argvPw?.code, argvPw?.stderr.split('\n')[0]]).toEqual([2, `Unexpected argument '${PW}' (a password is never an argument; send it on stdin).`]);
    expect([empty?.code, empty?.stderr.split('\n')[0]]).toEqual([2, 'No password on stdin; pipe it in: echo "$PW" | npm run accounts -- ...']);
    expect([twoLines?.code, twoLines?.stderr.split('\n')[0]]).toEqual([2, 'Send one password on stdin (a single line).']);
    expect([unknownCommand?.code, unknownCommand?.stderr.split('\n')[0]]).toEqual([2, "Unknown command 'frobnicate'."]);
    expect(unknownOption?.code).toBe(2);
    expect(unknownOption?.stderr).toContain("Unknown option '--colour'");
    expect([noRedis?.code, noRedis?.stderr]).toEqual([2, 'the configuration is invalid, fix these environment variables: REDIS_URL: is required (redis://host:6379), or set REDIS_SENTINELS and REDIS_SENTINEL_NAME\n']);
    expect([badAuthority?.code, badAuthority?.stderr]).toEqual([2, '--authority must be 1-64 characters of A-Z, a-z, 0-9, _ . -\n']);
    expect([nothing?.code, nothing?.stderr.split('\n')[0]]).toEqual([2, 'Usage: npm run accounts -- <command> [options]   (the password comes from stdin)']);
    for (const name of ['short.pw', 'own.name', 'x', 'no.authority', 'r.bad', 'pw.argv', 'empty.stdin', 'two.lines']) expect(await accounts.get(name), name).toBeUndefined();
    for (const run of runs) expect(run.stdout + run.stderr).not.toContain('scrypt');
  });
});
