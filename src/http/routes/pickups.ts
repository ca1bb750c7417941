/** Notices in, pickups out: the case system's REST surface. */
import { Hono } from 'hono';
import { z } from 'zod';
import type { PickupService } from '../../service/pickup-service.js';
import type { ApiKeyAuthenticator } from '../auth.js';
import { requireRole } from '../auth.js';
import type { AppEnv } from '../context.js';
import { fail, parseBody, readJson } from '../errors.js';
import { clientOf } from './util.js';

const cancelSchema = z.strictObject({ reason: z.enum(['cancelled_by_case_system', 'cancelled_by_staff']).optional() }).default({});

export function pickupRoutes(service: PickupService, auth: ApiKeyAuthenticator): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/notices', requireRole(auth, 'case-system'), async (c) => {
    const result = await service.submitNotice(clientOf(c), await readJson(c));
    c.header('Location', `/v1/pickups/${result.pickup.id}`);
    return c.json(result, result.outcome === 'created' ? 201 : 200);
  });

  app.get('/pickups', requireRole(auth, 'case-system', 'staff'), async (c) => {
    const messageId = c.req.query('messageId');
    if (messageId === undefined || messageId === '') fail('VALIDATION_FAILED', 'Query parameter messageId is required (GET /v1/pickups?messageId=...).', 'messageId');
    return c.json(await service.getPickup(clientOf(c), { messageId }));
  });

  app.get('/pickups/:pickupId', requireRole(auth, 'case-system', 'staff'), async (c) => {
    return c.json(await service.getPickup(clientOf(c), { pickupId: c.req.param('pickupId') }));
  });

  app.post('/pickups/:pickupId/cancel', requireRole(auth, 'case-system', 'staff'), async (c) => {
    const client = clientOf(c);
    const body = parseBody(cancelSchema, await readJson(c, { optional: true }));
    const reason = body.reason ?? (client.role === 'staff' ? 'cancelled_by_staff' : 'cancelled_by_case_system');
    return c.json(await service.cancelPickup(client, { pickupId: c.req.param('pickupId') }, reason));
  });

  // Staff issue a new code (the old one was blocked at the box, or the SMS is lost); the SMS with it is queued.
  app.post('/pickups/:pickupId/code', requireRole(auth, 'staff'), async (c) => {
    const client = clientOf(c);
    const actor = `${client.role === 'admin' ? 'admin' : 'staff'}:${client.id}`;
    const { pickup, codeGeneration } = await service.issueNewCode(client, { pickupId: c.req.param('pickupId') }, actor);
    return c.json({ pickupId: pickup.id, codeGeneration, state: pickup.state, sms: 'queued' as const });
  });

  return app;
}
