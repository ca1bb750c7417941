/**
 * The simulator console's server without a middleware: its control API
 * answers bad requests with a 4xx and a reason, refuses changes from another
 * site's page, answers only to its own host names, serves its page with a
 * CSP that frames only the kiosk, and its parts and its summary of the
 * middleware say what they cannot show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from '../../simulator/console/server.js';
import { SimulatedWorld, type WorldTime } from '../../simulator/world.js';
import { loadBoxes } from '../../src/mappings/loaders.js';
import { projectPath } from '../../src/project-root.js';

let world: SimulatedWorld;
let server: ConsoleServer;
const MIDDLEWARE = 'http://127.0.0.1:9';

beforeAll(async () => {
  world = await SimulatedWorld.start({ middlewareUrl: () => MIDDLEWARE, boxes: [...loadBoxes(projectPath('mappings/boxes')).values()] });
  server = await startConsoleServer(world, { middlewareUrl: () => MIDDLEWARE });
});

afterAll(async () => {
  await server?.close();
  await world?.close();
});

const json = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });

describe('the control API refuses bad input with a reason', () => {
  it('answers a notice without a box with 422 naming the field, and a body that is not JSON with 400', async () => {
    const missing = await json('POST', '/api/notices', { count: 2 });
    expect(missing.status).toBe(422);
    expect(await missing.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('boxId') });
    const broken = await json('POST', '/api/notices', '{"boxId":');
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ code: 'BAD_JSON' });
    const language = await json('POST', '/api/notices', { boxId: 'md-foyer', language: 'arabic' });
    expect(language.status).toBe(422);
  });

  it('answers an unknown action with 404 and a closed door that should take a document with 409', async () => {
    const unknown = await json('POST', '/api/boxes/md-foyer/compartments/001/fly');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'UNKNOWN_ACTION', message: expect.stringContaining('insert') });
    const closed = await json('POST', '/api/boxes/md-foyer/compartments/001/insert');
    expect(closed.status).toBe(409);
    expect(await closed.json()).toMatchObject({ code: 'DOOR_CLOSED' });
    const nowhere = await json('POST', '/api/boxes/nowhere/compartments/001/close');
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toMatchObject({ code: 'UNKNOWN_BOX' });
  });

  it('answers a fault on a gateway the box does not have with 422, and an unknown fault with 422', async () => {
    const gateway = await json('POST', '/api/faults', { kind: 'silent-board', target: { box: 'md-foyer', gateway: 'gw9', board: 0 }, on: true });
    expect(gateway.status).toBe(422);
    expect(await gateway.json()).toMatchObject({ code: 'FAULT_TARGET', message: expect.stringContaining('gw9') });
    const kind = await json('POST', '/api/faults', { kind: 'meteor', on: true });
    expect(kind.status).toBe(422);
    expect(world.faults()).toEqual([]);
  });

  it('answers a speed with 409 TIME_NOT_SIMULATED when the world runs on wall time, and a clock change without speed or moment with 422', async () => {
    const speed = await json('PUT', '/api/clock', { speed: 60 });
    expect(speed.status).toBe(409);
    expect(await speed.json()).toMatchObject({ code: 'TIME_NOT_SIMULATED' });
    const empty = await json('PUT', '/api/clock', {});
    expect(empty.status).toBe(422);
  });

  it('records a notice the middleware did not take as an error with the reason', async () => {
    const answer = await json('POST', '/api/notices', { boxId: 'md-foyer' });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ sent: [{ boxId: 'md-foyer', outcome: 'error', detail: expect.any(String) }] });
    expect(world.notices.at(-1)).toMatchObject({ boxId: 'md-foyer', outcome: 'error' });
  });
});

describe('the console protects the world it drives', () => {
  it('refuses a change from another site’s page and lets the console page and scripts through', async () => {
    const foreign = await json('POST', '/api/boxes/md-foyer/compartments/002/force-open', undefined, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ code: 'FORBIDDEN' });
    const form = await fetch(`${server.url}/api/faults`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' }, body: 'kind=sms-down&on=true' });
    expect(form.status).toBe(403);
    expect(world.compartment('md-foyer', '002').door).toBe('closed');
    const own = await json('POST', '/api/boxes/md-foyer/compartments/002/force-open', undefined, { origin: server.url, 'sec-fetch-site': 'same-origin' });
    expect(own.status).toBe(200);
    // curl sends neither header.
    const script = await fetch(`${server.url}/api/boxes/md-foyer/compartments/002/close`, { method: 'POST' });
    expect(script.status).toBe(200);
    expect(world.compartment('md-foyer', '002').door).toBe('closed');
  });

  it('answers only to its own host names (no DNS rebinding)', async () => {
    const port = new URL(server.url).port;
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/world', headers: { host: `evil.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
    expect((await fetch(`http://localhost:${port}/api/clock`)).status).toBe(200);
  });

  it('serves its page with a CSP of its own files that frames only the middleware’s kiosk, and nobody frames the console', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`frame-src ${MIDDLEWARE}`);
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await page.text();
    expect(html).toContain(`src="${MIDDLEWARE}/kiosk"`);
    expect(html).toContain('<html lang="de"');
    expect(await (await fetch(`${server.url}/?lang=en`)).text()).toContain('<html lang="en"');
  });
});

describe('the console’s parts', () => {
  it('renders each part alone and names the parts when asked for one it does not have', async () => {
    for (const part of ['clock', 'front', 'compartment', 'faults', 'phones', 'notices', 'middleware']) {
      const answer = await fetch(`${server.url}/parts/${part}?box=md-foyer&lang=en&c=001`);
      expect(answer.status, part).toBe(200);
    }
    const front = await (await fetch(`${server.url}/parts/front?box=md-foyer`)).text();
    // 456 compartments, 24 columns of 19: the bottom row starts with 001, 020, 039.
    expect(front.match(/data-c="/g)?.length).toBe(456);
    const bottomRow = [...front.matchAll(/data-c="(\d+)" data-col="(\d+)" data-row="0"/g)].slice(0, 3).map((m) => m[1]);
    expect(bottomRow).toEqual(['001', '020', '039']);
    const unknown = await fetch(`${server.url}/parts/secrets`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('front');
  });

  it('says why it cannot show the middleware’s side when it has no API keys', async () => {
    const summary = (await (await fetch(`${server.url}/api/middleware`)).json()) as { reachable: boolean; problems: { code: string }[] };
    expect(summary).toMatchObject({ reachable: false, problems: [{ code: 'noKeys' }] });
  });
});

/** A simulated clock in memory, as the world gets one when the middleware runs with SIMULATED_TIME. */
function memoryTime(start: string): WorldTime {
  let now = Date.parse(start);
  let speed = 1;
  const listeners = new Set<() => void>();
  return {
    now: () => now,
    state: () => ({ now, speed, simulated: true }),
    set: async (change) => {
      if (change.speed !== undefined) speed = change.speed;
      if (change.at !== undefined) now = Date.parse(String(change.at));
      listeners.forEach((l) => l());
    },
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

describe('the console’s clock with simulated time', () => {
  it('shows the simulated time and speed, takes a new speed and a jump, and tells the page', async () => {
    const simulated = await SimulatedWorld.start({ middlewareUrl: () => MIDDLEWARE, boxes: [...loadBoxes(projectPath('mappings/boxes')).values()], time: memoryTime('2026-12-02T07:00:00Z') });
    const own = await startConsoleServer(simulated, { middlewareUrl: () => MIDDLEWARE });
    try {
      const changes: string[] = [];
      simulated.on('change', (change: { kind: string }) => changes.push(change.kind));
      const speed = await fetch(`${own.url}/api/clock`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ speed: 3600 }) });
      expect(speed.status).toBe(200);
      const jump = await fetch(`${own.url}/api/clock`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ at: '2026-12-24T09:30:00+01:00' }) });
      expect(await jump.json()).toMatchObject({ now: Date.parse('2026-12-24T08:30:00Z'), speed: 3600, simulated: true });
      expect(changes.filter((c) => c === 'clock')).toHaveLength(2);
      const part = await (await fetch(`${own.url}/parts/clock?lang=de`)).text();
      expect(part).toContain('läuft 3600×');
      expect(part).toContain('24.12.2026, 09:30:00');
      expect(part).toContain('aria-pressed="true" data-focus="speed-3600"');
      expect(part.match(/aria-pressed="true"/g)).toHaveLength(1);
    } finally {
      await own.close();
      await simulated.close();
    }
  });
});
