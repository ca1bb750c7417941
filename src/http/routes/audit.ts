/** The audit trail of staff actions (src/store/audit.ts), of the caller's authority only. */
import { Hono } from 'hono';
import type { PickupService } from '../../service/pickup-service.js';
import { requireRole, type ApiKeyAuthenticator } from '../auth.js';
import type { AppEnv } from '../context.js';
import { fail } from '../errors.js';
import { clientOf } from './util.js';

export function auditRoutes(service: PickupService, auth: ApiKeyAuthenticator): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/audit', requireRole(auth, 'staff'), async (c) => {
    const pickupId = c.req.query('pickupId');
    const boxId = c.req.query('boxId');
    const rawLimit = c.req.query('limit');
    const limit = rawLimit === undefined ? 100 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) fail('VALIDATION_FAILED', 'Query parameter limit is a whole number from 1 to 500 (default 100).', 'limit');
    if (pickupId !== undefined && (pickupId === '' || pickupId.length > 64)) fail('VALIDATION_FAILED', 'Query parameter pickupId has 1 to 64 characters.', 'pickupId');
    const entries = await service.auditTrail(clientOf(c), {
      limit,
      ...(pickupId === undefined ? {} : { pickupId }),
      ...(boxId === undefined ? {} : { boxId }),
    });
    return c.json({ entries });
  });

  return app;
}
