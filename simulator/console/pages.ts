/**
 * The console page (a first version: the world as JSON links until the full page lands).
 */
import { Hono } from 'hono';
import type { SimulatedWorld } from '../world.js';

export interface ConsoleSettings {
  /** The middleware's address (the kiosk is embedded from there). */
  middlewareUrl: () => string;
  /** A one-time kiosk enrollment for the embedded kiosk, per box (created by the simulator once the middleware listens). */
  kioskEnrollment?: (boxId: string) => Promise<string | undefined>;
}

export function consolePages(world: SimulatedWorld, settings: ConsoleSettings): Hono {
  const app = new Hono();
  app.get('/', (c) =>
    c.html(`<!doctype html><html lang="en"><meta charset="utf-8"><title>dokubox simulator</title><h1>dokubox simulator</h1><p>Middleware: ${settings.middlewareUrl()}</p><p>Boxes: ${world.boxes.map((b) => b.id).join(', ')}. The world as JSON: <a href="/api/world">/api/world</a>.</p></html>`),
  );
  return app;
}
