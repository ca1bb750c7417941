/**
 * Managing the machines and people at a box: enrolling a kiosk PC (a
 * one-time code that the kiosk's browser redeems at /kiosk/enroll),
 * listing and revoking kiosks, ending a kiosk's pause after failed attempts,
 * and the staff accounts that sign in at the kiosk (staff number and PIN).
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { DokuboxError } from '../../core/errors.js';
import type { AttemptLimiter } from '../../kiosk/attempts.js';
import type { KioskDevices } from '../../kiosk/devices.js';
import { PIN, STAFF_NUMBER, type StaffAccounts } from '../../kiosk/staff-accounts.js';
import type { PickupService } from '../../service/pickup-service.js';
import type { ApiKeyAuthenticator } from '../auth.js';
import { requireRole } from '../auth.js';
import type { AppEnv } from '../context.js';
import { parseBody, readJson } from '../errors.js';
import { clientOf } from './util.js';

export interface KioskAdminDeps {
  service: PickupService;
  auth: ApiKeyAuthenticator;
  devices: KioskDevices;
  staff: StaffAccounts;
  attempts: AttemptLimiter;
  clock: Clock;
}

const enrollmentSchema = z.strictObject({ boxId: z.string().min(1).max(64) });
const staffSchema = z.strictObject({
  pin: z.string().regex(PIN, 'the PIN has 4 to 8 digits'),
  name: z.string().trim().min(1).max(80).optional(),
});

export function kioskAdminRoutes(d: KioskAdminDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/kiosk-enrollments', requireRole(d.auth, 'staff'), async (c) => {
    const client = clientOf(c);
    const { boxId } = parseBody(enrollmentSchema, await readJson(c));
    const box = d.service.box(client, boxId);
    const enrollment = await d.devices.createEnrollment({ boxId: box.id, authority: box.authority, createdBy: `${client.role}:${client.id}` }, d.clock.now());
    return c.json({ code: enrollment.code, boxId: box.id, expiresAt: new Date(enrollment.expiresAt).toISOString(), enrollPath: '/kiosk/enroll' }, 201);
  });

  app.get('/boxes/:boxId/kiosks', requireRole(d.auth, 'staff', 'monitoring'), async (c) => {
    const box = d.service.box(clientOf(c), c.req.param('boxId'));
    const devices = await d.devices.list(box.id);
    const now = d.clock.now();
    const kiosks = await Promise.all(
      devices.map(async (device) => {
        const status = await d.attempts.status(`kiosk.${device.id}`, now);
        return { ...device, ...(status.paused ? { pausedUntil: new Date(status.until).toISOString() } : {}) };
      }),
    );
    return c.json({ boxId: box.id, kiosks });
  });

  const deviceOf = async (c: Context<AppEnv>, deviceId: string) => {
    const device = await d.devices.get(deviceId);
    if (device === undefined || device.authority !== clientOf(c).authority) throw new DokuboxError('NOT_FOUND', 'No kiosk with this id is enrolled for your authority.', { field: 'deviceId' });
    return device;
  };

  app.post('/kiosks/:deviceId/release', requireRole(d.auth, 'staff'), async (c) => {
    const device = await deviceOf(c, c.req.param('deviceId'));
    const released = await d.attempts.release(`kiosk.${device.id}`, d.clock.now());
    return c.json({ deviceId: device.id, released });
  });

  app.delete('/kiosks/:deviceId', requireRole(d.auth, 'staff'), async (c) => {
    const device = await deviceOf(c, c.req.param('deviceId'));
    await d.devices.revoke(device.id);
    return c.body(null, 204);
  });

  app.put('/staff-accounts/:staffNumber', requireRole(d.auth, 'admin'), async (c) => {
    const staffNumber = c.req.param('staffNumber');
    if (!STAFF_NUMBER.test(staffNumber)) throw new DokuboxError('VALIDATION_FAILED', 'A staff number has 1 to 32 letters, digits or -.', { field: 'staffNumber' });
    const body = parseBody(staffSchema, await readJson(c));
    await d.staff.setPin(clientOf(c).authority, staffNumber, body.pin, body.name);
    return c.body(null, 204);
  });

  app.delete('/staff-accounts/:staffNumber', requireRole(d.auth, 'admin'), async (c) => {
    const removed = await d.staff.remove(clientOf(c).authority, c.req.param('staffNumber'));
    if (!removed) throw new DokuboxError('NOT_FOUND', 'No staff account with this number exists for your authority.', { field: 'staffNumber' });
    return c.body(null, 204);
  });

  return app;
}
