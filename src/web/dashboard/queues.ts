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

  const app = new Hono<AppEnv>();
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
        const html = (await c.res.text()).replace(/<link [^>]*href="https?:\/\/[^"]*"[^>]*>/g, '');
        const headers = new Headers(c.res.headers);
        headers.delete('content-length');
        c.res = new Response(html, { status: c.res.status, headers });
      }
    });
  }
  app.route('/queues', serverAdapter.registerPlugin() as unknown as Hono<AppEnv>);
  return app;
}
