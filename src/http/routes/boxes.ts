/**
 * Boxes and compartments, and the staff and kiosk actions that move a pickup
 * through the box when no locker adapter drives them (manual confirmation).
 */
import { Hono, type Context } from 'hono';
import { missingFactors } from '../../core/pickup-policy.js';
import { z } from 'zod';
import { actorOf, type PickupService } from '../../service/pickup-service.js';
import type { BoxLifecycle } from '../../lifecycle/box-lifecycle.js';
import type { ClientIdentity } from '../../service/types.js';
import type { RedisAlarms } from '../../store/alarms.js';
import type { PickupStore } from '../../store/pickup-store.js';
import type { ApiKeyAuthenticator } from '../auth.js';
import { requireRole } from '../auth.js';
import type { AppEnv } from '../context.js';
import { fail, parseBody, readJson } from '../errors.js';
import { auditReason } from './pickups.js';
import { clientOf } from './util.js';

const loadingSchema = z.strictObject({ serialNumber: z.string().trim().min(1).max(32) });
/** Staff open a compartment remotely only with a reason (audited). */
const openSchema = z.strictObject({ reason: auditReason });
/** What an applicant entered: the code, and the factors the box's policy asks (mobile, dateOfBirth, can, pinLetter). */
const verificationSchema = z.strictObject({
  code: z.string().max(16),
  mobile: z.string().max(32).optional(),
  dateOfBirth: z.string().max(10).optional(),
  can: z.string().max(16).optional(),
  pinLetter: z.boolean().optional(),
});


export interface BoxRouteDeps {
  service: PickupService;
  store: PickupStore;
  auth: ApiKeyAuthenticator;
  alarms: RedisAlarms;
  lifecycles: ReadonlyMap<string, BoxLifecycle>;
}

export function boxRoutes({ service, store, auth, alarms, lifecycles }: BoxRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  /** The lifecycle of a box whose locker is connected; manual confirmation otherwise. */
  const lifecycleOf = (client: ClientIdentity, boxId: string): BoxLifecycle | undefined => {
    const box = service.box(client, boxId);
    return lifecycles.get(box.id);
  };

  app.get('/boxes', requireRole(auth, 'case-system', 'staff', 'kiosk', 'locker', 'monitoring'), (c) => {
    return c.json({
      boxes: service.boxesOf(clientOf(c)).map((b) => ({
        id: b.id,
        name: b.name,
        location: b.location,
        timeZone: b.timeZone,
        openingHours: b.openingHours,
        deadlineWorkingDays: b.deadlineWorkingDays,
        compartments: b.compartments.length,
      })),
    });
  });

  app.get('/boxes/:boxId/compartments', requireRole(auth, 'staff', 'locker', 'monitoring'), async (c) => {
    const box = service.box(clientOf(c), c.req.param('boxId'));
    const states = await store.listCompartments(box);
    const definitions = new Map(box.compartments.map((d) => [d.id, d]));
    const filter = c.req.query('state');
    const compartments = states
      .filter((s) => filter === undefined || s.state === filter)
      .map((s) => {
        const d = definitions.get(s.id);
        return { id: s.id, state: s.state, pickupId: s.pickupId, size: d?.size, heightCm: d?.heightCm, accessible: d?.accessible };
      });
    const summary: Record<string, number> = { free: 0, reserved: 0, occupied: 0, retrieval: 0, defective: 0 };
    for (const s of states) summary[s.state] = (summary[s.state] ?? 0) + 1;
    return c.json({ boxId: box.id, summary, waiting: (await store.waitingList(box.id)).length, compartments });
  });

  app.post('/boxes/:boxId/loadings', requireRole(auth, 'staff'), async (c) => {
    const client = clientOf(c);
    const { serialNumber } = parseBody(loadingSchema, await readJson(c));
    const lifecycle = lifecycleOf(client, c.req.param('boxId'));
    if (lifecycle !== undefined) {
      // The door opens; the pickup becomes loaded when it closes with the document inside.
      const opened = await lifecycle.openForLoading(client, serialNumber);
      return c.json({ pickupId: opened.pickupId, compartment: opened.compartment, state: 'reserved', door: 'open' });
    }
    const found = await service.findForLoading(client, c.req.param('boxId'), serialNumber);
    const pickup = await service.markLoaded(found.id, `staff:${client.id}`);
    return c.json({ pickupId: pickup.id, compartment: pickup.compartment, state: pickup.state, door: 'manual' });
  });

  /** The entries of an applicant, with every factor the box's policy asks for (400 naming the first one missing). */
  const enteredAt = async (c: Context<AppEnv>, boxId: string) => {
    const entered = parseBody(verificationSchema, await readJson(c));
    const box = service.box(clientOf(c), boxId);
    const missing = missingFactors(box.pickup, entered);
    if (missing.length > 0) fail('VALIDATION_FAILED', `This box asks for ${missing.join(', ')} besides the code (its policy: ${box.pickup.steps.join(', ')}).`, missing[0]);
    return entered;
  };

  app.post('/boxes/:boxId/pickups', requireRole(auth, 'kiosk'), async (c) => {
    const client = clientOf(c);
    const entered = await enteredAt(c, c.req.param('boxId'));
    const lifecycle = lifecycleOf(client, c.req.param('boxId'));
    if (lifecycle === undefined) fail('COMPARTMENT_UNAVAILABLE', 'This box has no connected locker; the document can be collected at the counter.');
    const opened = await lifecycle.openForPickup(client, entered);
    return c.json({ pickupId: opened.pickupId, compartment: opened.compartment, door: 'open' });
  });

  app.post('/boxes/:boxId/compartments/:compartment/open', requireRole(auth, 'staff'), async (c) => {
    const client = clientOf(c);
    const { reason } = parseBody(openSchema, await readJson(c));
    const lifecycle = lifecycleOf(client, c.req.param('boxId'));
    if (lifecycle === undefined) fail('COMPARTMENT_UNAVAILABLE', 'This box has no connected locker.');
    const compartment = c.req.param('compartment');
    const box = service.box(client, c.req.param('boxId'));
    if (!box.compartments.some((d) => d.id === compartment)) fail('NOT_FOUND', `Compartment '${compartment}' does not exist in box '${box.id}'.`, 'compartment');
    const occupant = await store.occupantOf(box.id, compartment);
    const opened = await lifecycle.openForRetrieval(client, compartment, occupant?.pickupId ?? null, reason);
    return c.json({ compartment: opened.compartment, pickupId: opened.pickupId, door: 'open' });
  });

  app.get('/boxes/:boxId/alarms', requireRole(auth, 'staff', 'monitoring'), async (c) => {
    const box = service.box(clientOf(c), c.req.param('boxId'));
    return c.json({ boxId: box.id, alarms: await alarms.list(box.id) });
  });

  app.post('/boxes/:boxId/verifications', requireRole(auth, 'kiosk'), async (c) => {
    const entered = await enteredAt(c, c.req.param('boxId'));
    return c.json(await service.verify(clientOf(c), c.req.param('boxId'), entered));
  });

  app.post('/boxes/:boxId/compartments/:compartment/:action{emptied|defective|repaired}', requireRole(auth, 'staff'), async (c) => {
    const action = c.req.param('action') as 'emptied' | 'defective' | 'repaired';
    const client = clientOf(c);
    await service.compartmentAction(client, c.req.param('boxId'), c.req.param('compartment'), action);
    if (action !== 'emptied') {
      await service.audit({ actor: actorOf(client), authority: client.authority, action: action === 'defective' ? 'compartment_defective' : 'compartment_repaired', boxId: c.req.param('boxId'), compartment: c.req.param('compartment') });
    }
    // Keep the locker's own view in step: a defective door refuses to open until repaired.
    if (action !== 'emptied') await lifecycleOf(client, c.req.param('boxId'))?.adapter.setEnabled(c.req.param('compartment'), action === 'repaired');
    return c.body(null, 204);
  });

  app.post('/pickups/:pickupId/collected', requireRole(auth, 'kiosk', 'locker'), async (c) => {
    const client = clientOf(c);
    await service.getPickup(client, { pickupId: c.req.param('pickupId') });
    const box = service.box(client, (await service.getPickup(client, { pickupId: c.req.param('pickupId') })).boxId);
    const pickup = await service.markCollected(c.req.param('pickupId'), `${client.role}:${client.id}`, box.pickup.steps.filter((s) => s !== 'pinLetter').join('+'));
    return c.json(await service.view(pickup.id));
  });

  app.post('/pickups/:pickupId/returned', requireRole(auth, 'staff'), async (c) => {
    const client = clientOf(c);
    await service.getPickup(client, { pickupId: c.req.param('pickupId') });
    const pickup = await service.markReturned(c.req.param('pickupId'), `staff:${client.id}`);
    return c.json(await service.view(pickup.id));
  });

  return app;
}
