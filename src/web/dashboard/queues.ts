/**
 * The background queues for admins: bull-board at /dashboard/queues over the
 * BullMQ queues `sms`, `case-system-reports` and `maintenance`, behind
 * requirePerson('admin') (a clerk gets the 403 page, a person signed out the
 * sign-in page). Read-only: the board shows queues, jobs and their data, but
 * offers no retry, removal or pause (its API calls would not carry the
 * dashboard's CSRF token, and a job is retried by the service, not by hand).
 *
 * bull-board serves its own UI from node_modules (@bull-board/ui); its page
 * asks for web fonts from the internet, which is taken out, and it needs
 * inline styles and its <base>, so it gets its own Content-Security-Policy
 * (still 'self' only for scripts, connections and fonts).
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { loadAsset } from '../assets.js';
import { projectPath } from '../../project-root.js';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../http/context.js';

export const QUEUES_PATH = '/dashboard/queues';

export const QUEUES_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
  "base-uri 'self'",
  "object-src 'none'",
].join('; ');

export interface DashboardQueuesDeps {
  /** The queues to show; asked at the first request (some are built after the routes). */
  queues: () => Queue[];
  /** Admits signed-in admins only (requirePerson('admin')). */
  guard: MiddlewareHandler<AppEnv>;
  /** The board's title (e.g. from the catalogue). */
  title: string;
  /** bull-board's UI language, e.g. `de-DE`. */
  locale?: string;
}

/** Routes to mount at /dashboard (they answer under /dashboard/queues). */
export function dashboardQueueRoutes(d: DashboardQueuesDeps): Hono<AppEnv> {
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(QUEUES_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: { uiConfig: { boardTitle: d.title, ...(d.locale === undefined ? {} : { locale: { lng: d.locale } }), hideRedisDetails: true } },
  });
  let registered = false;
  // Our accessibility fixes for the vendor's page (names for icon buttons, contrast), served next to it.
  const fixes = [
    loadAsset(projectPath('src/web/dashboard/queues-fix.css'), '/dashboard/queues-assets', 'queues-fix.css'),
    loadAsset(projectPath('src/web/dashboard/queues-fix.ts'), '/dashboard/queues-assets', 'queues-fix.ts'),
  ];
  const fixTags = `<link rel="stylesheet" href="${fixes[0]?.url ?? ''}"><script type="module" src="${fixes[1]?.url ?? ''}"></script>`;

  const app = new Hono<AppEnv>();
  app.get('/queues-assets/:file', (c) => {
    const asset = fixes.find((a) => a.url.endsWith(`/${c.req.param('file')}`));
    if (asset === undefined) return c.text('No such asset.', 404);
    return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' });
  });
  for (const path of ['/queues', '/queues/*']) {
    app.use(path, d.guard);
    app.use(path, async (c, next) => {
      if (!registered) {
        board.replaceQueues(d.queues().map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })));
        registered = true;
      }
      await next();
      c.res.headers.set('Content-Security-Policy', QUEUES_CSP);
      if ((c.res.headers.get('content-type') ?? '').startsWith('text/html')) {
        // The page would load fonts from the internet; it falls back to the system's fonts.
        const html = (await c.res.text()).replace(/<link [^>]*href="https?:\/\/[^"]*"[^>]*>/g, '').replace('</head>', `${fixTags}</head>`);
        const headers = new Headers(c.res.headers);
        headers.delete('content-length');
        c.res = new Response(html, { status: c.res.status, headers });
      }
    });
  }
  app.route('/queues', serverAdapter.registerPlugin() as unknown as Hono<AppEnv>);
  return app;
}
