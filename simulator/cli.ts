/**
 * `npm run simulator`: the simulated world alone (lock boards, SMS gateway,
 * phones, case system, console) against a middleware that runs elsewhere,
 * e.g. a test deployment. It prints the console's address first, then the
 * variables the middleware needs to talk to this world.
 *
 *   npm run simulator -- --middleware http://test-host:8080 --case-user sim --case-password secret \
 *       [--staff-key K] [--admin-key K] [--boxes mappings/boxes] [--host 127.0.0.1] [--advertise host]
 *       [--port 7100] [--state-dir var/simulator-standalone] [--redis redis://... --redis-prefix dokubox]
 *
 * With --redis (the middleware's Redis and key prefix, when it runs with
 * SIMULATED_TIME=true) the console shows and changes the shared world clock.
 *
 * With --port P the world uses fixed ports: console P, SMS HTTP P+1, SMPP P+2,
 * case-system callback P+3, CU16 gateways from P+10 (box by box), so the
 * middleware's configuration stays valid across restarts.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadBoxes } from '../src/mappings/loaders.js';
import { PROJECT_ROOT, projectPath } from '../src/project-root.js';
import { startSimulator } from './index.js';
import { RedisWorldTime } from './world-time.js';

const USAGE = `usage: npm run simulator -- --middleware <url> [--case-user <user> --case-password <password>]
       [--staff-key <key>] [--admin-key <key>] [--boxes <dir>] [--host <address>] [--advertise <host>]
       [--port <first port>] [--state-dir <dir>] [--signing-secret <secret>] [--redis <url> [--redis-prefix <prefix>]]`;

export interface SimulatorCliOptions {
  middleware: string;
  caseUser?: string;
  casePassword?: string;
  staffKey?: string;
  adminKey?: string;
  boxes: string;
  host: string;
  advertise?: string;
  port?: number;
  stateDir: string;
  signingSecret?: string;
  redis?: string;
  redisPrefix: string;
}

/** Reads the command line; throws an Error whose message says what to fix. */
export function parseSimulatorArgs(argv: string[]): SimulatorCliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      middleware: { type: 'string' },
      'case-user': { type: 'string' },
      'case-password': { type: 'string' },
      'staff-key': { type: 'string' },
      'admin-key': { type: 'string' },
      boxes: { type: 'string' },
      host: { type: 'string' },
      advertise: { type: 'string' },
      port: { type: 'string' },
      'state-dir': { type: 'string' },
      'signing-secret': { type: 'string' },
      redis: { type: 'string' },
      'redis-prefix': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.middleware === undefined) throw new Error(`--middleware is required: the address of the dokubox to test (e.g. http://127.0.0.1:8080)\n${USAGE}`);
  let middleware: URL;
  try {
    middleware = new URL(values.middleware);
  } catch {
    throw new Error(`--middleware '${values.middleware}' is not a URL; give e.g. http://127.0.0.1:8080`);
  }
  if (middleware.protocol !== 'http:' && middleware.protocol !== 'https:') throw new Error('--middleware must be an http:// or https:// address');
  if (values.redis !== undefined && !/^rediss?:\/\//.test(values.redis)) throw new Error(`--redis '${values.redis}' must start with redis:// or rediss:// (the middleware's REDIS_URL)`);
  if (values['redis-prefix'] !== undefined && values.redis === undefined) throw new Error('--redis-prefix needs --redis: the world clock lives in the middleware\'s Redis');
  if ((values['case-user'] === undefined) !== (values['case-password'] === undefined)) throw new Error('--case-user and --case-password go together: the case system logs in with both');
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 1024 || port > 65_000) throw new Error(`--port '${values.port}' must be a number between 1024 and 65000 (the first of the world's ports)`);
  }
  return {
    middleware: middleware.origin,
    ...(values['case-user'] === undefined ? {} : { caseUser: values['case-user'] }),
    ...(values['case-password'] === undefined ? {} : { casePassword: values['case-password'] }),
    ...(values['staff-key'] === undefined ? {} : { staffKey: values['staff-key'] }),
    ...(values['admin-key'] === undefined ? {} : { adminKey: values['admin-key'] }),
    boxes: values.boxes ?? 'mappings/boxes',
    host: values.host ?? '127.0.0.1',
    ...(values.advertise === undefined ? {} : { advertise: values.advertise }),
    ...(port === undefined ? {} : { port }),
    stateDir: values['state-dir'] ?? join(PROJECT_ROOT, 'var', 'simulator-standalone'),
    ...(values['signing-secret'] === undefined ? {} : { signingSecret: values['signing-secret'] }),
    ...(values.redis === undefined ? {} : { redis: values.redis }),
    redisPrefix: values['redis-prefix'] ?? 'dokubox',
  };
}

async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') {
    process.stderr.write('The simulated world does not run with NODE_ENV=production: it is for testing. Unset NODE_ENV or set it to development.\n');
    process.exit(2);
  }
  let options: SimulatorCliOptions;
  try {
    options = parseSimulatorArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const boxes = [...loadBoxes(projectPath(options.boxes)).values()];
  const login = options.caseUser !== undefined && options.casePassword !== undefined ? { username: options.caseUser, password: options.casePassword } : undefined;
  const simulator = await startSimulator({
    middlewareUrl: () => options.middleware,
    boxes,
    // The standalone world keeps its own state, apart from `npm start`'s.
    stateDir: options.stateDir,
    ...(login === undefined ? {} : { caseSystemLogins: [...new Set(boxes.map((b) => b.authority))].map((authority) => ({ authority, ...login })) }),
    ...(options.signingSecret === undefined ? {} : { smsSigningSecret: options.signingSecret }),
    consoleHost: options.host,
    ...(options.port === undefined ? {} : { consolePort: options.port }),
    listen: {
      host: options.host,
      ...(options.advertise === undefined ? {} : { advertisedHost: options.advertise }),
      ...(options.port === undefined ? {} : { smsHttpPort: options.port + 1, smppPort: options.port + 2, callbackPort: options.port + 3, lockerBasePort: options.port + 10 }),
    },
  });
  const apiKeys = [
    ...(options.staffKey === undefined ? [] : boxes.map((b) => ({ role: 'staff', authority: b.authority, key: options.staffKey as string }))),
    ...(options.adminKey === undefined ? [] : boxes.map((b) => ({ role: 'admin', authority: b.authority, key: options.adminKey as string }))),
  ];
  simulator.ready(options.middleware, { apiKeys });
  if (options.redis !== undefined) await simulator.world.useTime(await RedisWorldTime.connect(options.redis, options.redisPrefix));
  const env = { ...simulator.env };
  // The case system's login is the middleware's to know already when it was given.
  if (login !== undefined) delete env.CASE_SYSTEM_CLIENTS;
  const lines = [
    `simulator console  ${simulator.console.url}/`,
    `the simulated world for ${options.middleware} (state in ${options.stateDir})`,
    ...simulator.parts.flatMap((p) => Object.entries(p.urls).map(([name, url]) => `  ${p.name} ${name}: ${url.replaceAll('{url}', options.middleware)}`)),
    'configure the middleware with (then restart it):',
    ...Object.entries(env).map(([k, v]) => `  ${k}='${v}'`),
  ];
  if (login === undefined) lines.push('  (no --case-user given: the case system logs in with the login in CASE_SYSTEM_CLIENTS above)');
  if (options.staffKey === undefined) lines.push('  (no --staff-key given: the console cannot enroll its embedded kiosk)');
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = (): void => {
    void simulator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
