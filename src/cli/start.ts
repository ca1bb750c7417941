/**
 * The service's entry point (the container runs this file). Outside
 * production it fills what is missing: without REDIS_URL and
 * REDIS_SENTINELS a private redis-server (AOF on, data under ./var/) runs as
 * a child process; without secrets, development secrets and API keys are
 * generated under ./var/ and printed. Any variable that is set wins over these defaults.
 * `npm start` goes through simulator/start.ts, which adds the simulated world.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../config.js';
import { createDokubox, type Dokubox } from '../main.js';
import { systemClock } from '../core/clock.js';
import { PROJECT_ROOT, projectPath } from '../project-root.js';
import { loadBoxes, MappingError } from '../mappings/loaders.js';
import { apiKeysEnv, loadOrCreateDevSecrets } from './dev-secrets.js';
import { RedisBinaryMissingError, startPrivateRedis, type PrivateRedis } from './redis-server.js';

/** Something that runs beside the middleware (the simulator) and points it at itself. */
export interface Companion {
  /** Environment defaults for the middleware (explicit variables win). */
  env: Record<string, string>;
  /** Lines to print at start-up; `{url}` stands for the middleware's base URL. */
  lines: string[];
  /** Shell variables for a tester's terminal (printed with the API address and keys as one export line). */
  shell?: Record<string, string>;
  /** The first line of the banner (the simulated world's console). */
  headline?: string;
  /** Called once the middleware listens, with the development API keys (empty when keys were configured). */
  ready?(middlewareUrl: string, access: { apiKeys: { role: string; authority: string; key: string }[] }): void | Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Started before the middleware; receives a getter for the middleware's URL. */
  /** Started before the middleware, with its environment as far as it is known (the private Redis's URL included). */
  companion?: (middlewareUrl: () => string, env: Readonly<Record<string, string | undefined>>) => Promise<Companion>;
}

/** Neither REDIS_URL nor Sentinel configured: the zero-config start brings its own redis-server. */
export function needsPrivateRedis(env: Record<string, string | undefined>): boolean {
  return !env.REDIS_URL && !env.REDIS_SENTINELS;
}

export async function start(options: StartOptions = {}): Promise<void> {
  const env: Record<string, string | undefined> = { ...process.env };
  const production = env.NODE_ENV === 'production';
  const varDir = env.VAR_DIR ?? join(PROJECT_ROOT, 'var');
  const notes: string[] = [];

  let redis: PrivateRedis | undefined;
  if (needsPrivateRedis(env)) {
    redis = await startPrivateRedis({ dataDir: join(varDir, 'redis'), ...(env.REDIS_SERVER_BIN ? { binary: env.REDIS_SERVER_BIN } : {}) });
    env.REDIS_URL = redis.url;
    notes.push(`private redis-server on ${redis.url} (data in ${join(varDir, 'redis')})`);
  }

  let devKeys: { role: string; authority: string; key: string }[] = [];
  if (!production && (!env.SECRET_KEY || !env.PII_KEY || !env.API_KEYS)) {
    const authorities = [...new Set([...loadBoxes(projectPath(env.BOXES_DIR ?? 'mappings/boxes')).values()].map((b) => b.authority))];
    const secrets = loadOrCreateDevSecrets(join(varDir, 'dev-secrets.json'), authorities);
    env.SECRET_KEY ||= secrets.secretKey;
    env.PII_KEY ||= secrets.piiKey;
    if (!env.API_KEYS) {
      env.API_KEYS = apiKeysEnv(secrets);
      devKeys = secrets.apiKeys;
    }
    notes.push(`development secrets from ${join(varDir, 'dev-secrets.json')} (never use them in production)`);
  }

  let companion: Companion | undefined;
  let middlewareUrl = '';
  if (options.companion !== undefined && !production && env.SIMULATOR !== 'false') {
    companion = await options.companion(() => middlewareUrl, env);
    for (const [key, value] of Object.entries(companion.env)) env[key] ??= value;
  }

  const config = loadConfig(env);
  const dokubox = await createDokubox(config);
  const { url, metricsUrl } = await dokubox.listen();
  middlewareUrl = url;
  await companion?.ready?.(url, { apiKeys: devKeys });

  const lines = [
    ...(companion?.headline === undefined ? [] : [companion.headline]),
    `dokubox is running`,
    `  API         ${url}/v1`,
    `  API docs    ${url}/docs`,
    `  health      ${url}/livez  ${url}/readyz`,
    `  metrics     ${metricsUrl ?? `${url}/metrics (API key with role monitoring or admin)`}`,
    ...(companion?.lines.map((l) => `  ${l.replaceAll('{url}', url)}`) ?? []),
    ...notes.map((n) => `  note: ${n}`),
  ];
  if (devKeys.length > 0) {
    const kiosk = await developmentKiosk(url, devKeys, [...dokubox.boxes.values()][0]?.id).catch(() => undefined);
    if (kiosk !== undefined) {
      lines.push(`  kiosk       ${url}/kiosk/enroll  one-time code ${kiosk.code} (15 minutes), then ${url}/kiosk`);
      lines.push(`  staff       sign in at the kiosk as ${kiosk.staffNumber} with PIN ${kiosk.pin}`);
    }
    const person = await developmentAdmin(dokubox, devKeys.find((k) => k.role === 'admin')?.authority).catch(() => undefined);
    if (person !== undefined) lines.push(`  dashboard   ${url}/dashboard  sign in as ${person.username} with password ${person.password}`);
    lines.push('  development API keys (send as "Authorization: Bearer <key>"):');
    for (const k of devKeys) lines.push(`    ${k.role.padEnd(12)} ${k.authority.padEnd(16)} ${k.key}`);
  }
  if (devKeys.length > 0 || companion?.shell !== undefined) {
    // One line to paste into a terminal: the README's walk uses these names.
    const keyOf = (role: string): string | undefined => devKeys.find((k) => k.role === role)?.key;
    const vars: Record<string, string | undefined> = { API: url, CASE_KEY: keyOf('case-system'), STAFF_KEY: keyOf('staff'), KIOSK_KEY: keyOf('kiosk'), ADMIN_KEY: keyOf('admin'), ...companion?.shell };
    const assignments = Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined);
    lines.push('  for your shell (the README walks through a pickup with these):', `    export ${assignments.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  // Set off from the log lines around it: a rule above and below, blank lines between.
  const rule = '─'.repeat(Math.min(78, Math.max(...lines.map((l) => l.length))));
  process.stdout.write(`\n${rule}\n${lines.join('\n')}\n${rule}\n\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    dokubox.logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      dokubox.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    void (async () => {
      await dokubox.close();
      await companion?.close();
      await redis?.stop();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * Development only: a one-time code that enrols a browser as the first box's
 * kiosk, and a staff account to sign in there, made through the API like a
 * clerk would (docs/kiosk.md).
 */
async function developmentKiosk(url: string, keys: { role: string; authority: string; key: string }[], boxId: string | undefined): Promise<{ code: string; staffNumber: string; pin: string } | undefined> {
  if (boxId === undefined) return undefined;
  const staff = keys.find((k) => k.role === 'staff');
  const admin = keys.find((k) => k.role === 'admin' && k.authority === staff?.authority);
  if (staff === undefined || admin === undefined) return undefined;
  const enrollment = await fetch(`${url}/v1/kiosk-enrollments`, { method: 'POST', headers: { authorization: `Bearer ${staff.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ boxId }) });
  if (enrollment.status !== 201) return undefined;
  const { code } = (await enrollment.json()) as { code: string };
  const pin = String(randomInt(100_000, 1_000_000));
  const account = await fetch(`${url}/v1/staff-accounts/1001`, { method: 'PUT', headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ pin, name: 'Entwicklung' }) });
  if (account.status !== 204) return undefined;
  return { code, staffNumber: '1001', pin };
}

/**
 * Development only: an admin of the dashboard with a fresh random password
 * at every start (printed in the banner; there is no default password).
 */
async function developmentAdmin(dokubox: Dokubox, authority: string | undefined): Promise<{ username: string; password: string } | undefined> {
  if (authority === undefined) return undefined;
  const username = 'dev.admin';
  const password = randomBytes(12).toString('base64url');
  const accounts = dokubox.dashboard.accounts;
  if ((await accounts.get(username)) === undefined) await accounts.create({ username, authority, role: 'admin', password, name: 'Development admin' }, systemClock.now());
  else await accounts.setPassword(username, password);
  return { username, password };
}

/** Runs `start` and turns start-up failures into one clear message and exit code 1. */
export function startOrExit(options: StartOptions = {}): void {
  start(options).catch((error: unknown) => {
    // One line that says what to fix; the stack only when asked for (LOG_LEVEL=debug or trace).
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`dokubox cannot start: ${message.replace(/\s*\n\s*/g, '; ')}\n`);
    const expected = error instanceof ConfigError || error instanceof MappingError || error instanceof RedisBinaryMissingError;
    if (!expected && error instanceof Error && /^(debug|trace)$/.test(process.env.LOG_LEVEL ?? '')) process.stderr.write(`${error.stack ?? ''}\n`);
    process.exit(1);
  });
}

/** Whether this module is the program (`node dist/src/cli/start.js`, `tsx src/cli/start.ts`), also through symlinks. */
function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) startOrExit();
