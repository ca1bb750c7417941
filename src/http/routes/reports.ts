/**
 * Dead letters of the case-system status reports: reports that failed after
 * the retry budget, holding back that pickup's later reports until replayed.
 */
import { Hono } from 'hono';
import type { CaseSystemReportQueue } from '../../case-system/reports.js';
import { actorOf, type PickupService } from '../../service/pickup-service.js';
import { requireRole, type ApiKeyAuthenticator } from '../auth.js';
import type { AppEnv } from '../context.js';
import { fail } from '../errors.js';
import { clientOf } from './util.js';

export function reportRoutes(reports: CaseSystemReportQueue, auth: ApiKeyAuthenticator, service: PickupService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/case-reports/dead-letters', requireRole(auth, 'staff', 'monitoring'), async (c) => {
    const client = clientOf(c);
    const dead = (await reports.listDeadLetters()).filter((d) => d.report.authority === client.authority);
    return c.json({ deadLetters: dead });
  });

  app.post('/case-reports/dead-letters/:pickupId/replay', requireRole(auth, 'staff'), async (c) => {
    const client = clientOf(c);
    const pickupId = c.req.param('pickupId');
    const dead = (await reports.listDeadLetters()).find((d) => d.pickupId === pickupId && d.report.authority === client.authority);
    if (dead === undefined) fail('NOT_FOUND', 'No dead letter for this pickup in your authority.', 'pickupId');
    await reports.replayDeadLetter(pickupId);
    await service.audit({ actor: actorOf(client), authority: client.authority, action: 'case_report_replayed', pickupId, boxId: dead.report.boxId, detail: `report seq ${dead.report.seq} (${dead.report.status})` }, 'if_exists');
    return c.json({ pickupId, replayed: true });
  });

  return app;
}
