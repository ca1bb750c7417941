/**
 * The simulated world for the zero-config start and for testers: real
 * servers that speak the wire protocols of the case system, the SMS gateway
 * and the lock boards (simulator/world.ts), the console for people and the
 * control API for scripts (simulator/console/).
 */
import { join } from 'node:path';
import type { BoxDefinition } from '../src/core/box.js';
import { startConsoleServer, type ConsoleServer } from './console/server.js';
import { startLockerControl } from './locker/part.js';
import { SimulatedWorld, type CaseSystemLogin, type WorldListen, type WorldTime } from './world.js';

export interface SimulatorPart {
  name: string;
  /** Human-readable addresses to print at start-up. */
  urls: Record<string, string>;
  /** Environment overrides that point the middleware at this part. */
  env: Record<string, string>;
  /** Shell variables for a tester's terminal (the README's walk), printed as one export line. */
  shell?: Record<string, string>;
  /** Called once the middleware listens. */
  ready?(middlewareUrl: string): void;
  close(): Promise<void>;
}

export interface Simulator {
  world: SimulatedWorld;
  console: ConsoleServer;
  parts: SimulatorPart[];
  env: Record<string, string>;
  ready(middlewareUrl: string, access?: MiddlewareAccess): void;
  close(): Promise<void>;
}

/** What the simulator may do at the middleware beyond the case system's login (the embedded kiosk needs a staff key). */
export interface MiddlewareAccess {
  apiKeys: { role: string; authority: string; key: string }[];
}

export interface SimulatorContext {
  middlewareUrl: () => string;
  /** The boxes the middleware will load (from BOXES_DIR). */
  boxes: BoxDefinition[];
  /** Where the simulated world keeps its state across restarts (`VAR_DIR`, like Redis and the secrets); none: nothing is kept. */
  varDir?: string;
  /** The world's state directory itself (wins over `varDir`). */
  stateDir?: string;
  /** Fixed host and ports for the world's servers. */
  listen?: WorldListen;
  /** Logins of the case system at a middleware elsewhere (`npm run simulator`); default fresh ones the middleware is told of. */
  caseSystemLogins?: CaseSystemLogin[];
  time?: WorldTime;
  /** The console's port (default any free one). */
  consolePort?: number;
  consoleHost?: string;
  smsSigningSecret?: string;
}

export async function startSimulator(context: SimulatorContext): Promise<Simulator> {
  const world = await SimulatedWorld.start({
    middlewareUrl: context.middlewareUrl,
    boxes: context.boxes,
    ...(context.stateDir !== undefined ? { stateDir: context.stateDir } : context.varDir === undefined ? {} : { stateDir: join(context.varDir, 'simulator') }),
    ...(context.listen === undefined ? {} : { listen: context.listen }),
    ...(context.caseSystemLogins === undefined ? {} : { caseSystemLogins: context.caseSystemLogins }),
    ...(context.time === undefined ? {} : { time: context.time }),
    ...(context.smsSigningSecret === undefined ? {} : { smsSigningSecret: context.smsSigningSecret }),
  });
  let access: MiddlewareAccess | undefined;
  const consoleServer = await startConsoleServer(
    world,
    {
      middlewareUrl: context.middlewareUrl,
      kioskEnrollment: async (boxId) => {
        const box = world.boxes.find((b) => b.id === boxId);
        const staff = access?.apiKeys.find((k) => k.role === 'staff' && k.authority === box?.authority);
        if (staff === undefined) return undefined;
        const response = await fetch(`${context.middlewareUrl()}/v1/kiosk-enrollments`, { method: 'POST', headers: { authorization: `Bearer ${staff.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ boxId }), signal: AbortSignal.timeout(5000) });
        if (response.status !== 201) return undefined;
        return ((await response.json()) as { code: string }).code;
      },
      middlewareAccess: () => access,
    },
    { ...(context.consolePort === undefined ? {} : { port: context.consolePort }), ...(context.consoleHost === undefined ? {} : { host: context.consoleHost }) },
  );
  const lockerControl = await startLockerControl(world.lockers, world.boxes);
  const login = world.logins[0];
  const parts: SimulatorPart[] = [
    {
      name: 'console',
      urls: { page: `${consoleServer.url}/`, api: `${consoleServer.url}/api/world` },
      env: { KIOSK_FRAME_ANCESTORS: consoleServer.url },
      shell: { CONSOLE: consoleServer.url },
      close: () => consoleServer.close(),
    },
    {
      name: 'locker',
      urls: {
        control: `${lockerControl.url}/`,
        ...(context.stateDir !== undefined ? { state: context.stateDir } : context.varDir === undefined ? {} : { state: join(context.varDir, 'simulator') }),
        ...Object.fromEntries(Object.entries(world.lockerEndpoints).map(([k, v]) => [`CU16 gateway ${k}`, `tcp://${v}`])),
      },
      env: {},
      shell: { LOCKERS: lockerControl.url },
      close: () => new Promise<void>((resolve) => lockerControl.server.close(() => resolve())),
    },
    {
      name: 'case-system',
      urls: {
        'status reports': world.callbacks.url.replace(/\/callback$/, '/'),
        ...(login === undefined
          ? {}
          : {
              'SOAP login': `user ${login.username} password ${login.password}`,
              // {url} becomes the middleware's address in the banner.
              'send notices': `npm run case-system -- notify --base {url} --user ${login.username} --password ${login.password} --count 3`,
            }),
      },
      env: {},
      shell: { REPORTS: world.callbacks.url.replace(/\/callback$/, '') },
      close: () => Promise.resolve(),
    },
    {
      name: 'sms-gateway',
      urls: { 'phone inbox': `${world.sms.seven.url}/inbox`, 'seven.io API': world.sms.seven.url, SMPP: `smpp://127.0.0.1:${world.sms.smpp.port} (dokubox/dev)` },
      env: {},
      shell: { PHONES: world.sms.seven.url },
      close: () => Promise.resolve(),
    },
  ];
  return {
    world,
    console: consoleServer,
    parts,
    env: { ...world.middlewareEnv(), ...Object.assign({}, ...parts.map((p) => p.env)) },
    ready: (url, given) => {
      access = given;
      world.middlewareReady(url);
    },
    close: async () => {
      for (const part of [...parts].reverse()) await part.close();
      await world.close();
    },
  };
}
