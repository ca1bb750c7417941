/**
 * The dashboard's box pages: the box front by compartment state, live over
 * server-sent events (one stream per open page, fed by LiveBoxFeed: no
 * polling), the waiting list, open alarms and their acknowledgement. Every
 * route needs a signed-in person of the box's authority; another
 * authority's box does not exist for them (404).
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { BoxDefinition } from '../../core/box.js';
import type { Clock } from '../../core/clock.js';
import { DokuboxError } from '../../core/errors.js';
import type { RedisAlarms } from '../../store/alarms.js';
import type { PickupStore } from '../../store/pickup-store.js';
import type { AppEnv } from '../../http/context.js';
import type { Asset } from '../assets.js';
import type { Catalogues } from '../i18n.js';
import { boxPage } from './box-page.js';
import { COMPARTMENT_VIEWS, compartmentViews, type CompartmentView } from './box-view.js';
import type { BoxChange, LiveBoxFeed } from './live.js';

export interface DashboardPerson {
  username: string;
  name?: string | undefined;
  authority: string;
  role: 'clerk' | 'admin';
  csrf: string;
}

export interface DashboardBoxDeps {
  store: PickupStore;
  boxes: ReadonlyMap<string, BoxDefinition>;
  alarms: RedisAlarms;
  live: LiveBoxFeed;
  catalogues: Catalogues;
  assets: { css: Asset; js: Asset };
  /** Admits signed-in people (any role) and checks the CSRF token of state-changing requests. */
  guard: MiddlewareHandler<AppEnv>;
  personOf: (c: Context<AppEnv>) => DashboardPerson;
  clock: Clock;
  /** Seconds between keep-alive comments on an idle event stream. */
  keepAliveSeconds?: number;
}

export function dashboardBoxRoutes(d: DashboardBoxDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const assetByPath = new Map([d.assets.css, d.assets.js].map((a) => [a.url.replace(/^\/dashboard/, ''), a]));
  const pageAssets = { css: d.assets.css.url, js: d.assets.js.url };

  app.get('/assets/:file', (c) => {
    const asset = assetByPath.get(`/assets/${c.req.param('file')}`);
    if (asset === undefined) return c.text('No such asset.', 404);
    return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' });
  });

  /** A box of the signed-in person's authority, or 404 (another authority's box does not exist for them). */
  const boxOf = (c: Context<AppEnv>, boxId: string): BoxDefinition => {
    const box = d.boxes.get(boxId);
    if (box === undefined || box.authority !== d.personOf(c).authority) throw new DokuboxError('NOT_FOUND', `No box '${boxId}' for your authority.`);
    return box;
  };
  const language = (c: Context<AppEnv>): string => (c.req.query('lang') === 'en' ? 'en' : 'de');

  app.get('/boxes/:boxId', d.guard, async (c) => {
    const person = d.personOf(c);
    const box = boxOf(c, c.req.param('boxId'));
    const [rows, waiting, alarms] = await Promise.all([compartmentViews(d.store, box), d.store.waitingList(box.id), d.alarms.open(box.id, 50)]);
    return c.html(
      boxPage({
        catalogues: d.catalogues,
        language: language(c),
        box,
        boxes: [...d.boxes.values()].filter((b) => b.authority === person.authority),
        rows,
        waiting: waiting.length,
        alarms,
        assets: pageAssets,
        person: { name: person.name ?? person.username, csrf: person.csrf },
      }),
    );
  });

  app.get('/boxes/:boxId/live', d.guard, (c) => {
    const box = boxOf(c, c.req.param('boxId'));
    const t = (key: string, values: Record<string, number> = {}) => d.catalogues.t(language(c), key, values, box.timeZone);
    return streamSSE(c, async (stream) => {
      const queue: BoxChange[] = [];
      let wake: (() => void) | undefined;
      let open = true;
      const unsubscribe = await d.live.subscribe(box.id, (change) => {
        queue.push(change);
        wake?.();
      });
      stream.onAbort(() => {
        open = false;
        unsubscribe();
        wake?.();
      });
      // What the page shows now; each change is compared with it and only differences are sent.
      let shown = new Map((await compartmentViews(d.store, box)).map((r) => [r.id, r.view]));
      let waiting = (await d.store.waitingList(box.id)).length;
      await stream.writeSSE({ event: 'ready', data: '{}' });
      while (open) {
        if (queue.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, (d.keepAliveSeconds ?? 20) * 1000).unref();
          });
          wake = undefined;
          if (queue.length === 0 && open) await stream.write(': keep-alive\n\n');
          continue;
        }
        const changes = queue.splice(0);
        for (const alarm of changes.filter((x) => x.kind === 'alarm')) {
          await stream.writeSSE({ event: 'alarm', data: JSON.stringify({ kind: alarm.entry.kind, compartment: alarm.entry.compartment ?? null, detail: alarm.entry.detail ?? null, at: alarm.entry.at }) });
        }
        if (changes.some((x) => x.kind !== 'alarm')) {
          const now = new Map((await compartmentViews(d.store, box)).map((r) => [r.id, r.view]));
          const changed = [...now].filter(([id, view]) => shown.get(id) !== view).map(([id, view]) => ({ id, view }));
          shown = now;
          const counts: Record<CompartmentView, number> = Object.fromEntries(COMPARTMENT_VIEWS.map((v) => [v, 0])) as Record<CompartmentView, number>;
          for (const view of now.values()) counts[view] += 1;
          if (changed.length > 0) await stream.writeSSE({ event: 'compartments', data: JSON.stringify({ changed, counts }) });
          const nowWaiting = (await d.store.waitingList(box.id)).length;
          if (nowWaiting !== waiting) {
            waiting = nowWaiting;
            await stream.writeSSE({ event: 'waiting', data: JSON.stringify({ count: waiting, text: t('dashboard.box.waiting', { count: waiting }) }) });
          }
        }
      }
    });
  });

  app.post('/alarms/:alarmId/acknowledge', d.guard, async (c) => {
    const person = d.personOf(c);
    const form = await c.req.parseBody();
    const box = boxOf(c, typeof form.boxId === 'string' ? form.boxId : '');
    const alarmId = c.req.param('alarmId');
    if (!(await d.alarms.list(box.id, 1000)).some((a) => a.id === alarmId)) throw new DokuboxError('NOT_FOUND', `No alarm '${alarmId}' at box '${box.id}'.`);
    const alarm = (await d.alarms.list(box.id, 1000)).find((a) => a.id === alarmId);
    const actor = `${person.role}:${person.username}`;
    if (await d.alarms.acknowledge(alarmId, actor)) {
      await d.store.audit.record({
        at: new Date(d.clock.now()).toISOString(),
        actor,
        authority: person.authority,
        action: 'alarm_acknowledged',
        boxId: box.id,
        ...(alarm?.compartment === undefined ? {} : { compartment: alarm.compartment }),
        detail: `${alarm?.kind ?? 'alarm'} ${alarmId}`,
      });
    }
    return c.redirect(`/dashboard/boxes/${box.id}`, 303);
  });

  return app;
}
