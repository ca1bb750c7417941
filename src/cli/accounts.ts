/**
 * `npm run accounts -- <command>`: the dashboard's accounts from the command
 * line, above all the first admin of an authority (there is no default
 * password). Passwords are read from stdin, never from arguments, so they
 * stay out of shell history and process lists:
 *
 *   echo "$PW" | npm run accounts -- create-admin --authority magdeburg-abh --username m.schulz
 *
 * At a terminal the password is asked for twice, without echo. The
 * environment is read through src/config.ts like the service (REDIS_URL or
 * REDIS_SENTINELS, REDIS_KEY_PREFIX, ...). In the container:
 * `node dist/src/cli/accounts.js <command>`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { PERSON_ROLES, PersonAccounts, type PersonAccount, type PersonRole } from '../accounts/accounts.js';
import { PersonSessions } from '../accounts/sessions.js';
import { ConfigError, loadRedisConfig } from '../config.js';
import { systemClock } from '../core/clock.js';
import { isDokuboxError } from '../core/errors.js';
import { createLogger } from '../logger.js';
import { closeRedis, connectRedis, redisSettings, untilReady } from '../store/redis-connections.js';

const USAGE = `Usage: npm run accounts -- <command> [options]   (the password comes from stdin)

  create-admin --authority A --username U [--name N] [--force]
                                   the first admin of an authority; refused when it has one, unless --force
  add --authority A --username U --role clerk|admin [--name N]
  passwd --username U              a new password; ends the person's sessions
  set-role --username U --role clerk|admin
  disable --username U             sign-in refused, sessions ended
  enable --username U
  list --authority A

Passwords: at least 12 characters, not containing the username.
Example: echo "$PW" | npm run accounts -- create-admin --authority magdeburg-abh --username m.schulz`;

const OPTIONS = {
  authority: { type: 'string' },
  username: { type: 'string' },
  role: { type: 'string' },
  name: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

export interface AccountsCliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
}

/** Reads a password: all of stdin without its final line break, or (at a terminal) typed twice without echo. */
async function readPassword(io: AccountsCliIo): Promise<string> {
  if (io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function') {
    const first = await readHidden(io, 'Password: ');
    const second = await readHidden(io, 'Repeat the password: ');
    if (first !== second) throw new UsageError('The two passwords differ.');
    return first;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (text.includes('\n')) throw new UsageError('Send one password on stdin (a single line).');
  if (text === '') throw new UsageError('No password on stdin; pipe it in: echo "$PW" | npm run accounts -- ...');
  return text;
}

function readHidden(io: AccountsCliIo, prompt: string): Promise<string> {
  io.stderr.write(prompt);
  const input = io.stdin;
  input.setRawMode?.(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (error?: Error): void => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      io.stderr.write('\n');
      if (error === undefined) resolve(typed);
      else reject(error);
    };
    const onData = (data: Buffer | string): void => {
      for (const ch of String(data)) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('Cancelled.'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    input.on('data', onData);
  });
}

function required(values: Record<string, unknown>, ...names: string[]): void {
  const missing = names.filter((n) => typeof values[n] !== 'string' || values[n] === '');
  if (missing.length > 0) throw new UsageError(`Missing ${missing.map((n) => `--${n}`).join(', ')}.`);
}

function roleOf(value: unknown): PersonRole {
  if (!(PERSON_ROLES as readonly unknown[]).includes(value)) throw new UsageError(`--role must be one of: ${PERSON_ROLES.join(', ')}.`);
  return value as PersonRole;
}

function describe(a: PersonAccount): string {
  return `${a.username} (${a.role}, ${a.authority}${a.disabled === true ? ', disabled' : ''})`;
}

/** Runs one command; returns the exit code (0 done, 1 refused or failed, 2 wrong usage). */
export async function runAccountsCli(argv: string[], io: AccountsCliIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ allowPositionals: true; options: typeof OPTIONS }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    io.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  const [command, ...extra] = parsed.positionals;
  const v = parsed.values;
  if (v.help === true || command === undefined) {
    (v.help === true ? io.stdout : io.stderr).write(`${USAGE}\n`);
    return v.help === true ? 0 : 2;
  }
  if (extra.length > 0) {
    io.stderr.write(`Unexpected argument '${extra[0]}' (a password is never an argument; send it on stdin).\n\n${USAGE}\n`);
    return 2;
  }

  let logger: Logger | undefined;
  let redis: ReturnType<typeof connectRedis> | undefined;
  try {
    const config = loadRedisConfig(io.env);
    logger = createLogger({ level: 'warn', destination: process.stderr });
    const settings = redisSettings(config);
    const ns = config.REDIS_KEY_PREFIX;
    const connect = async () => {
      redis = connectRedis(settings, 'command', logger as Logger);
      await untilReady(redis, settings, 10_000);
      return { accounts: new PersonAccounts(redis, ns), sessions: new PersonSessions(redis, ns) };
    };
    const print = (line: string): void => void io.stdout.write(`${line}\n`);

    switch (command) {
      case 'create-admin':
      case 'add': {
        required(v, 'authority', 'username');
        const role = command === 'add' ? (required(v, 'role'), roleOf(v.role)) : 'admin';
        const password = await readPassword(io);
        const { accounts } = await connect();
        const created = await accounts.create(
          { username: v.username as string, authority: v.authority as string, role, password, ...(v.name === undefined ? {} : { name: v.name }) },
          systemClock.now(),
          { onlyIfNoAdmin: command === 'create-admin' && v.force !== true },
        );
        print(`created ${describe(created)}`);
        return 0;
      }
      case 'passwd': {
        required(v, 'username');
        const password = await readPassword(io);
        const { accounts, sessions } = await connect();
        const changed = await accounts.setPassword(v.username as string, password);
        const ended = await sessions.endAllOf(changed.username);
        print(`new password for ${describe(changed)}; ${ended} session(s) ended`);
        return 0;
      }
      case 'set-role': {
        required(v, 'username', 'role');
        const { accounts } = await connect();
        print(`role changed: ${describe(await accounts.setRole(v.username as string, roleOf(v.role)))}`);
        return 0;
      }
      case 'disable': {
        required(v, 'username');
        const { accounts, sessions } = await connect();
        const disabled = await accounts.disable(v.username as string);
        const ended = await sessions.endAllOf(disabled.username);
        print(`disabled ${describe(disabled)}; ${ended} session(s) ended`);
        return 0;
      }
      case 'enable': {
        required(v, 'username');
        const { accounts } = await connect();
        print(`enabled ${describe(await accounts.enable(v.username as string))}`);
        return 0;
      }
      case 'list': {
        required(v, 'authority');
        const { accounts } = await connect();
        const list = await accounts.list(v.authority as string);
        if (list.length === 0) print(`no accounts in ${v.authority as string}`);
        for (const a of list) print([a.username, a.role, a.disabled === true ? 'disabled' : 'enabled', new Date(a.createdAt).toISOString(), a.name ?? ''].join('\t').trimEnd());
        return 0;
      }
      default:
        throw new UsageError(`Unknown command '${command}'.`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (isDokuboxError(error)) {
      io.stderr.write(`${error.code}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof TypeError && /authority must be/.test(error.message)) {
      io.stderr.write(`--authority must be 1-64 characters of A-Z, a-z, 0-9, _ . -\n`);
      return 2;
    }
    io.stderr.write(`failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    if (redis !== undefined) await closeRedis(redis);
  }
}

const invoked = process.argv[1] === undefined ? '' : realpathSync(process.argv[1]);
if (invoked === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await runAccountsCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
}
