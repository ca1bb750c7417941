/**
 * The simulator's own HTTP server: the console page for testers (`/`) and
 * the world's control API (`/api`, simulator/console/api.ts). It runs only
 * with the simulated world, never in production. It listens on 127.0.0.1 by
 * default and answers only to its own host name (a page elsewhere cannot
 * reach it by DNS rebinding); requests that change the world must come from
 * its own page or from a script, never from another site's page (Origin and
 * Sec-Fetch-Site check against CSRF); its pages load nothing but its own
 * files and frame nothing but the middleware's kiosk (CSP).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { SimulatedWorld } from '../world.js';
import { consoleApi } from './api.js';
import { middlewareSummarySource } from './middleware.js';
import { consolePages, type ConsoleSettings } from './pages.js';

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Only the names this server is reached by on this machine (`Host` header), when it listens on a loopback address. */
function hostCheck(host: string, port: () => number): MiddlewareHandler {
  return async (c, next) => {
    if (LOOPBACK.has(host)) {
      const given = c.req.header('host') ?? '';
      const allowed = ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${port()}`);
      if (!allowed.includes(given)) return c.json({ code: 'WRONG_HOST', message: `This console answers only as ${allowed.join(', ')}.` }, 421);
    }
    await next();
  };
}

/**
 * Requests that change the world come from the console's own page or from a
 * script: a browser marks every request with Origin (POST, PUT) and
 * Sec-Fetch-Site, so one from another site's page or form is refused; curl
 * and the scenario runner send neither and are let through (the console
 * listens on this machine only).
 */
function sameOriginWrites(): MiddlewareHandler {
  return async (c, next) => {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) {
      const origin = c.req.header('origin');
      const site = c.req.header('sec-fetch-site');
      const own = new URL(c.req.url).origin;
      const foreignOrigin = origin !== undefined && origin !== own;
      const foreignSite = site !== undefined && site !== 'same-origin' && site !== 'none';
      if (foreignOrigin || foreignSite) {
        return c.json({ code: 'FORBIDDEN', message: 'This request came from another site (Origin or Sec-Fetch-Site); the world changes only from the console page itself or from scripts.' }, 403);
      }
    }
    await next();
  };
}

/** The console's CSP: its own scripts, styles and requests; frames only from the middleware (the kiosk); nobody frames the console. */
function contentSecurityPolicy(middlewareUrl: () => string): MiddlewareHandler {
  return async (c, next) => {
    await next();
    let frame = "'none'";
    try {
      const url = middlewareUrl();
      if (url !== '') frame = new URL(url).origin;
    } catch {
      // No middleware address yet: the page frames nothing.
    }
    c.header(
      'Content-Security-Policy',
      `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src ${frame}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'`,
    );
  };
}

export async function startConsoleServer(world: SimulatedWorld, settings: ConsoleSettings, listen: { port?: number; host?: string } = {}): Promise<ConsoleServer> {
  const host = listen.host ?? '127.0.0.1';
  let port = 0;
  const summary = middlewareSummarySource(world, settings.middlewareUrl, () => settings.middlewareAccess?.());
  const app = new Hono();
  app.use(hostCheck(host, () => port));
  app.use(secureHeaders({ contentSecurityPolicy: undefined, referrerPolicy: 'no-referrer', xFrameOptions: 'DENY' }));
  app.use(contentSecurityPolicy(settings.middlewareUrl));
  app.use(sameOriginWrites());
  app.onError((error, c) => c.json({ code: 'INTERNAL', message: error instanceof Error ? error.message.slice(0, 200) : 'internal error' }, 500));
  app.route('/api', consoleApi(world, { middleware: summary }));
  app.route('/', consolePages(world, settings, summary));
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
