/**
 * The dashboard's box page and its live stream (server-sent events fed by a
 * blocking read of the event streams), mounted with a stand-in for the
 * sign-in: the grid in the box's rows and columns, a compartment that
 * changes colour when a notice reserves it, alarms as they are raised, and
 * nothing of another authority's box.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/http/context.js';
import { loadAsset } from '../../src/web/assets.js';
import { dashboardBoxRoutes, type DashboardPerson } from '../../src/web/dashboard/box-routes.js';
import { LiveBoxFeed, type BoxChange } from '../../src/web/dashboard/live.js';
import { loadCatalogues } from '../../src/web/i18n.js';
import { createWorld, KEYS, notice, type TestWorld } from '../support/harness.js';

let world: TestWorld;
let feed: LiveBoxFeed;
let app: Hono<AppEnv>;
const people: Record<string, DashboardPerson> = {
  clerk: { username: 'clerk1', authority: 'magdeburg-abh', role: 'clerk', csrf: 'csrf-token' },
  other: { username: 'clerk2', authority: 'dresden-abh', role: 'clerk', csrf: 'csrf-token' },
};

beforeAll(async () => {
  world = await createWorld();
  feed = new LiveBoxFeed({ connection: () => world.dokubox.redis.duplicate(), ns: world.config.REDIS_KEY_PREFIX, logger: world.dokubox.logger, blockMs: 200 });
  // Stand-in for the sign-in: the header names the person.
  const guard: MiddlewareHandler<AppEnv> = async (c, next) => {
    const person = people[c.req.header('x-test-person') ?? ''];
    if (person === undefined) return c.text('sign in', 401);
    c.set('person' as never, person as never);
    await next();
  };
  app = new Hono<AppEnv>();
  app.route(
    '/dashboard',
    dashboardBoxRoutes({
      store: world.dokubox.store,
      boxes: world.dokubox.boxes,
      alarms: world.dokubox.alarms,
      live: feed,
      clock: world.clock,
      catalogues: loadCatalogues('mappings/i18n'),
      assets: { css: loadAsset('src/web/dashboard/dashboard.css', '/dashboard/assets', 'dashboard.css'), js: loadAsset('src/web/dashboard/client.ts', '/dashboard/assets', 'dashboard.ts') },
      guard,
      personOf: (c) => c.get('person' as never) as DashboardPerson,
      keepAliveSeconds: 1,
    }),
  );
  app.onError((error, c) => c.text(error.message, (error as { status?: number }).status === 404 ? 404 : 500));
});
afterAll(async () => {
  await feed?.close();
  await world?.close();
});

/** Reads server-sent events from a response until `until` matches one; returns the events read. */
async function readEvents(response: Response, until: (event: { event: string; data: string }) => boolean): Promise<{ event: string; data: string }[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: string }[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      if (event === '') continue;
      events.push({ event, data });
      if (until({ event, data })) {
        await reader.cancel();
        return events;
      }
    }
  }
}

describe('the dashboard box page', () => {
  it('draws the box front in its rows and columns, every compartment with its state in words', async () => {
    const res = await app.request('/dashboard/boxes/md-foyer', { headers: { 'x-test-person': 'clerk' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.match(/<tr>/g)).toHaveLength(19);
    expect(html.match(/id="c-/g)).toHaveLength(456);
    expect(html).toMatch(/<span class="visually-hidden" data-state[^>]*>frei<\/span>/);
  });

  it('shows nothing of another authority’s box, and nothing without a sign-in', async () => {
    expect((await app.request('/dashboard/boxes/md-foyer', { headers: { 'x-test-person': 'other' } })).status).toBe(404);
    expect((await app.request('/dashboard/boxes/md-foyer/live', { headers: { 'x-test-person': 'other' } })).status).toBe(404);
    expect((await app.request('/dashboard/boxes/md-foyer')).status).toBe(401);
  });

  it('streams a compartment’s new state when a notice reserves it, and alarms as they are raised', async () => {
    const res = await app.request('/dashboard/boxes/md-foyer/live', { headers: { 'x-test-person': 'clerk' } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    let submitted = false;
    let raised = false;
    const events = await readEvents(res, (e) => {
      if (e.event === 'ready' && !submitted) {
        submitted = true;
        void world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: notice() });
      }
      if (e.event === 'compartments' && !raised) {
        raised = true;
        void world.dokubox.alarms.raise({ kind: 'door_left_open', boxId: 'md-foyer', compartment: '001' });
      }
      return e.event === 'alarm';
    });
    const compartments = events.find((e) => e.event === 'compartments');
    const changed = (JSON.parse(compartments!.data) as { changed: { id: string; view: string }[]; counts: Record<string, number> });
    expect(changed.changed).toHaveLength(1);
    expect(changed.changed[0]?.view).toBe('reserved');
    expect(changed.counts.reserved).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ kind: 'door_left_open', compartment: '001' });
  });

  it('acknowledges an alarm of the box once, and refuses unknown alarms and other authorities’ boxes', async () => {
    await world.dokubox.alarms.raise({ kind: 'door_left_open', boxId: 'md-foyer', compartment: '002' });
    const [alarm] = await world.dokubox.alarms.open('md-foyer');
    const form = (boxId: string) => ({ method: 'POST', headers: { 'x-test-person': 'clerk', 'content-type': 'application/x-www-form-urlencoded' }, body: `boxId=${boxId}` });
    expect((await app.request('/dashboard/alarms/1-0/acknowledge', form('md-foyer'))).status).toBe(404);
    expect((await app.request('/dashboard/alarms/not-an-id/acknowledge', form('md-foyer'))).status).toBe(404);
    expect((await app.request(`/dashboard/alarms/${alarm!.id}/acknowledge`, form('dd-rathaus'))).status).toBe(404);
    const done = await app.request(`/dashboard/alarms/${alarm!.id}/acknowledge`, form('md-foyer'));
    expect(done.status).toBe(303);
    expect((await world.dokubox.alarms.open('md-foyer')).some((a) => a.id === alarm!.id)).toBe(false);
    expect((await world.dokubox.alarms.list('md-foyer')).some((a) => a.id === alarm!.id)).toBe(true);
    const audit = await world.dokubox.store.audit.list({ authority: 'magdeburg-abh', boxId: 'md-foyer', limit: 10 });
    expect(audit.find((e) => e.action === 'alarm_acknowledged')).toMatchObject({ actor: 'clerk:clerk1', boxId: 'md-foyer', compartment: '002' });
  });
});

describe('the live box feed', () => {
  it('never replays past changes when finding the streams\' ends failed at first: it tries again and hands on only what happens afterwards', async () => {
    // Something has happened at the box before the feed starts.
    const before = await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: notice() });
    expect(before.status).toBe(201);
    let failures = 1;
    const connection = world.dokubox.redis.duplicate();
    const xrevrange = connection.xrevrange.bind(connection);
    // The first read of a stream's end fails (as while Redis is away at start-up), later ones reach Redis.
    connection.xrevrange = ((...args: Parameters<typeof xrevrange>) => (failures-- > 0 ? Promise.reject(new Error('connect ECONNREFUSED')) : xrevrange(...args))) as typeof connection.xrevrange;
    const fresh = new LiveBoxFeed({ connection: () => connection, ns: world.config.REDIS_KEY_PREFIX, logger: world.dokubox.logger, blockMs: 200 });
    try {
      const changes: BoxChange[] = [];
      await expect(fresh.subscribe('md-foyer', (change) => changes.push(change))).rejects.toThrow(/ECONNREFUSED/);
      // A page that tries again gets the feed's new position.
      let alarmSeen: (change: BoxChange) => void = () => undefined;
      const seen = new Promise<BoxChange>((resolve) => (alarmSeen = resolve));
      await fresh.subscribe('md-foyer', (change) => {
        changes.push(change);
        if (change.kind === 'alarm') alarmSeen(change);
      });
      // Whatever the feed would have replayed would arrive before this alarm.
      await world.dokubox.alarms.raise({ kind: 'door_left_open', boxId: 'md-foyer', compartment: '003' });
      expect(await seen).toMatchObject({ kind: 'alarm', compartment: '003' });
      expect(changes.map((c) => c.kind)).toEqual(['alarm']);
    } finally {
      await fresh.close();
    }
  });
});

