/**
 * The simulator's own HTTP server: the console page for testers (`/`) and
 * the world's control API (`/api`, simulator/console/api.ts). It runs only
 * with the simulated world, never in production.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { SimulatedWorld } from '../world.js';
import { consoleApi } from './api.js';
import { consolePages, type ConsoleSettings } from './pages.js';

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

export async function startConsoleServer(world: SimulatedWorld, settings: ConsoleSettings, listen: { port?: number; host?: string } = {}): Promise<ConsoleServer> {
  const app = new Hono();
  app.route('/api', consoleApi(world));
  app.route('/', consolePages(world, settings));
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
