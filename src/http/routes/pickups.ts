/** Notices in, pickups out: the case system's REST surface. */
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf, MAX_EXTENSION_WORKING_DAYS, type PickupService } from '../../service/pickup-service.js';
import type { ApiKeyAuthenticator } from '../auth.js';
import { requireRole } from '../auth.js';
import type { AppEnv } from '../context.js';
import { fail, parseBody, readJson } from '../errors.js';
import { clientOf } from './util.js';

const cancelSchema = z.strictObject({ reason: z.enum(['cancelled_by_case_system', 'cancelled_by_staff']).optional() }).default({});
/** Why a clerk acts (kept in the audit trail): 5 to 200 characters. */
export const auditReason = z.string().trim().min(5).max(200);
const revealSchema = z.strictObject({ reason: auditReason });
const deadlineSchema = z.strictObject({ workingDays: z.number().int().min(1).max(MAX_EXTENSION_WORKING_DAYS), reason: auditReason });
const reassignSchema = z.strictObject({ reason: auditReason.optional() }).default({});

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

  // Before /pickups/:pickupId, which would take `search` for an id.
  app.get('/pickups/search', requireRole(auth, 'staff'), async (c) => {
    const caseNumber = c.req.query('caseNumber')?.trim();
    const documentNumber = c.req.query('documentNumber')?.trim();
    const given = [caseNumber, documentNumber].filter((v) => v !== undefined && v !== '');
    if (given.length !== 1) fail('VALIDATION_FAILED', 'Give exactly one of the query parameters caseNumber and documentNumber (GET /v1/pickups/search?caseNumber=...).', caseNumber ? 'documentNumber' : 'caseNumber');
    if ((caseNumber?.length ?? 0) > 64) fail('VALIDATION_FAILED', 'Query parameter caseNumber has at most 64 characters.', 'caseNumber');
    if ((documentNumber?.length ?? 0) > 32) fail('VALIDATION_FAILED', 'Query parameter documentNumber has at most 32 characters.', 'documentNumber');
    const pickups = await service.findPickups(clientOf(c), caseNumber ? { caseNumber } : { documentNumber: documentNumber ?? '' });
    return c.json({ pickups });
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

  // Staff put the documents of a pickup whose compartment failed during loading into another compartment.
  app.post('/pickups/:pickupId/reassign', requireRole(auth, 'staff'), async (c) => {
    const client = clientOf(c);
    const body = parseBody(reassignSchema, await readJson(c, { optional: true }));
    return c.json(await service.reassignAfterFault(client, { pickupId: c.req.param('pickupId') }, actorOf(client), body.reason));
  });

  // The story of a pickup for staff: timeline, SMS, reports to the case system, personal data masked.
  app.get('/pickups/:pickupId/story', requireRole(auth, 'staff'), async (c) => {
    return c.json(await service.pickupStory(clientOf(c), c.req.param('pickupId')));
  });

  // The personal data in full, for a reason; audited.
  app.post('/pickups/:pickupId/reveal', requireRole(auth, 'staff'), async (c) => {
    const client = clientOf(c);
    const { reason } = parseBody(revealSchema, await readJson(c));
    return c.json(await service.revealPersonalData(client, c.req.param('pickupId'), reason, actorOf(client)));
  });

  // A notified pickup's deadline moves by some working days; audited, not reported.
  app.post('/pickups/:pickupId/deadline', requireRole(auth, 'staff'), async (c) => {
    const client = clientOf(c);
    const { workingDays, reason } = parseBody(deadlineSchema, await readJson(c));
    return c.json(await service.extendDeadline(client, c.req.param('pickupId'), workingDays, reason, actorOf(client)));
  });

  return app;
}
