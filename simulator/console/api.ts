/**
 * The simulated world's control API, for the console page and for scripts:
 *   GET  /api/world                       everything a tester sees (one snapshot)
 *   GET  /api/events                      server-sent events: `change` (what changed), `ready`
 *   POST /api/boxes/:box/compartments/:id/:action   insert | take | close | leave-open | force-open
 *   POST /api/notices                     send notices as the case system {boxId, count, format, language, accessible, documents, mobile}
 *   POST /api/pickups/:id/cancel          cancel a pickup as the case system
 *   GET  /api/faults                      the fault catalogue and what is switched on
 *   POST /api/faults                      {kind, target, on}
 *   GET  /api/clock, PUT /api/clock       the world's time {speed, at}
 *   GET  /api/middleware                  how dokubox reacts: its alarms, compartment states, report queue and dead letters, the followed pickups' SMS
 * Answers to bad requests are 4xx with `{ code, message }`.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { FAULT_KINDS, type FaultKind } from '../faults.js';
import type { MiddlewareSummarySource } from './middleware.js';
import { COMPARTMENT_ACTIONS, WorldError, type CompartmentAction, type SimulatedWorld, type WorldChange } from '../world.js';

const noticeRequest = z.strictObject({
  boxId: z.string().min(1).max(64),
  count: z.number().int().min(1).max(1000).optional(),
  format: z.enum(['soap', 'xoev', 'xoev-soap']).optional(),
  language: z.string().regex(/^[a-z]{2}$/, 'a two-letter language code such as de, ar, uk').optional(),
  accessible: z.boolean().optional(),
  documents: z.array(z.string().min(1).max(40)).min(1).max(5).optional(),
  mobile: z.string().min(3).max(30).optional(),
  renewal: z.boolean().optional(),
  oldCardCan: z.string().regex(/^\d{6}$/, 'six digits').optional(),
});

const faultRequest = z.strictObject({
  kind: z.enum(Object.keys(FAULT_KINDS) as [FaultKind, ...FaultKind[]]),
  target: z
    .strictObject({
      box: z.string().max(64).optional(),
      compartment: z.string().max(32).optional(),
      gateway: z.string().max(32).optional(),
      board: z.number().int().min(0).max(255).optional(),
      ms: z.number().int().min(1).max(120_000).optional(),
    })
    .default({}),
  on: z.boolean(),
});

const clockRequest = z
  .strictObject({
    speed: z.number().min(0).max(100_000).optional(),
    at: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
  })
  .refine((v) => v.speed !== undefined || v.at !== undefined, 'give a speed, a moment to jump to (at), or both');

function problem(c: Context, status: 400 | 404 | 409 | 413 | 422 | 502, code: string, message: string): Response {
  return c.json({ code, message }, status);
}

async function readJson<T>(c: Context, schema: z.ZodType<T>): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return { ok: false, response: problem(c, 400, 'BAD_JSON', 'The body is not JSON; send a JSON object with Content-Type: application/json.') };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return { ok: false, response: problem(c, 422, 'BAD_REQUEST', `${where}${issue?.message ?? 'invalid request'}`) };
  }
  return { ok: true, value: parsed.data };
}

function worldProblem(c: Context, error: unknown): Response {
  if (error instanceof WorldError) {
    const status = error.code.startsWith('UNKNOWN_') ? 404 : error.code === 'DOOR_CLOSED' || error.code === 'CLOCK_BACKWARDS' || error.code === 'TIME_NOT_SIMULATED' ? 409 : 422;
    return problem(c, status, error.code, error.message);
  }
  const message = error instanceof Error ? error.message : String(error);
  return problem(c, 502, 'MIDDLEWARE_UNREACHABLE', `The middleware did not take the request: ${message.slice(0, 200)}`);
}

export interface ConsoleApiOptions {
  /** Where `GET /api/middleware` reads from (absent: it answers 404). */
  middleware?: MiddlewareSummarySource;
}

export function consoleApi(world: SimulatedWorld, options: ConsoleApiOptions = {}): Hono {
  const app = new Hono();
  app.use('*', bodyLimit({ maxSize: 16 * 1024, onError: (c) => problem(c, 413, 'BODY_TOO_LARGE', 'The body is larger than 16 KiB.') }));

  app.get('/world', (c) => c.json(world.snapshot()));

  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      let pending: WorldChange[] = [];
      let wake: (() => void) | undefined;
      let open = true;
      const listener = (change: WorldChange): void => {
        pending.push(change);
        wake?.();
      };
      world.on('change', listener);
      stream.onAbort(() => {
        open = false;
        world.off('change', listener);
        wake?.();
      });
      await stream.writeSSE({ event: 'ready', data: JSON.stringify({ time: world.time.state() }) });
      while (open) {
        if (pending.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 15_000).unref();
          });
          wake = undefined;
          if (pending.length === 0 && open) await stream.write(': keep-alive\n\n');
          continue;
        }
        // Bursts (a batch of 300 notices) become one event per distinct change.
        const seen = new Set<string>();
        const changes = pending.filter((x) => {
          const key = JSON.stringify(x);
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
        pending = [];
        await stream.writeSSE({ event: 'change', data: JSON.stringify(changes) });
      }
    }),
  );

  app.post('/boxes/:box/compartments/:id/:action', (c) => {
    const action = c.req.param('action') as CompartmentAction;
    if (!COMPARTMENT_ACTIONS.includes(action)) return problem(c, 404, 'UNKNOWN_ACTION', `Unknown action '${action}'; use one of ${COMPARTMENT_ACTIONS.join(', ')}.`);
    try {
      return c.json(world.act(c.req.param('box'), c.req.param('id'), action));
    } catch (error) {
      return worldProblem(c, error);
    }
  });

  app.post('/notices', async (c) => {
    const body = await readJson(c, noticeRequest);
    if (!body.ok) return body.response;
    try {
      const { boxId, ...rest } = body.value;
      const request = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      return c.json({ sent: await world.sendNotices({ boxId, ...request }) });
    } catch (error) {
      return worldProblem(c, error);
    }
  });

  app.post('/pickups/:id/cancel', async (c) => {
    try {
      return c.json(await world.cancel(c.req.param('id')));
    } catch (error) {
      return worldProblem(c, error);
    }
  });

  app.get('/faults', (c) => c.json({ catalogue: FAULT_KINDS, active: world.faults() }));

  app.post('/faults', async (c) => {
    const body = await readJson(c, faultRequest);
    if (!body.ok) return body.response;
    try {
      const target = Object.fromEntries(Object.entries(body.value.target).filter(([, v]) => v !== undefined));
      const id = await world.setFault(body.value.kind, target, body.value.on);
      return c.json({ id, on: body.value.on, active: world.faults() });
    } catch (error) {
      return worldProblem(c, error);
    }
  });

  app.get('/clock', (c) => c.json(world.time.state()));

  app.put('/clock', async (c) => {
    const body = await readJson(c, clockRequest);
    if (!body.ok) return body.response;
    try {
      await world.time.set(Object.fromEntries(Object.entries(body.value).filter(([, v]) => v !== undefined)));
      return c.json(world.time.state());
    } catch (error) {
      return worldProblem(c, error);
    }
  });

  const middleware = options.middleware;
  if (middleware !== undefined) app.get('/middleware', async (c) => c.json(await middleware.read()));

  app.notFound((c) => problem(c, 404, 'NOT_FOUND', `No ${c.req.method} ${new URL(c.req.url).pathname}; the API is described at the top of simulator/console/api.ts and in docs/simulator.md.`));
  return app;
}
