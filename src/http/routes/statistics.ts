/**
 * Statistics of a box per day or ISO week (docs/statistics.md): JSON, or CSV
 * with `format=csv` or `Accept: text/csv`.
 */
import { Hono } from 'hono';
import type { PickupService } from '../../service/pickup-service.js';
import { statisticsCsv } from '../../stats/csv.js';
import { parseStatisticsQuery, type Statistics } from '../../stats/statistics.js';
import type { ApiKeyAuthenticator } from '../auth.js';
import { requireRole } from '../auth.js';
import type { AppEnv } from '../context.js';
import { fail } from '../errors.js';
import { clientOf } from './util.js';

export interface StatisticsRouteDeps {
  service: PickupService;
  auth: ApiKeyAuthenticator;
  statistics: Statistics;
}

export function statisticsRoutes({ service, auth, statistics }: StatisticsRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/boxes/:boxId/statistics', requireRole(auth, 'staff', 'monitoring'), async (c) => {
    const box = service.box(clientOf(c), c.req.param('boxId'));
    const query = parseStatisticsQuery({ from: c.req.query('from'), to: c.req.query('to'), granularity: c.req.query('granularity') });
    const format = c.req.query('format');
    if (format !== undefined && format !== 'json' && format !== 'csv') fail('VALIDATION_FAILED', "The query parameter 'format' must be 'json' or 'csv'.", 'format');
    const csv = format === 'csv' || (format === undefined && /\btext\/csv\b/i.test(c.req.header('accept') ?? ''));
    const rows = await statistics.getStatistics(box.id, query);
    if (csv) {
      return c.body(statisticsCsv(rows), 200, {
        'content-type': 'text/csv; charset=utf-8; header=present',
        'content-disposition': `attachment; filename="statistics-${box.id}-${query.from}-${query.to}.csv"`,
      });
    }
    return c.json({ boxId: box.id, timeZone: box.timeZone, from: query.from, to: query.to, granularity: query.granularity, rows });
  });

  return app;
}
