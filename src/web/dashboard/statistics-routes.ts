/**
 * The dashboard's statistics of a box (docs/statistics.md): the page with
 * form, chart and table, and the CSV of the same range. Clerks and admins of
 * the box's authority; another authority's box does not exist for them
 * (404). Mount at /dashboard before the box routes: its assets live under
 * /dashboard/assets and it passes on the ones it does not know.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { DateTime } from 'luxon';
import type { BoxDefinition } from '../../core/box.js';
import type { Clock } from '../../core/clock.js';
import { DokuboxError } from '../../core/errors.js';
import type { AppEnv } from '../../http/context.js';
import { statisticsCsv } from '../../stats/csv.js';
import { parseStatisticsQuery, type Statistics, type StatisticsQuery } from '../../stats/statistics.js';
import type { Asset } from '../assets.js';
import type { Catalogues } from '../i18n.js';
import type { DashboardPerson } from './box-routes.js';
import { statisticsPage } from './statistics-page.js';

/** The range shown when the page is opened without one: the last 30 days, today included. */
export const DEFAULT_RANGE_DAYS = 30;

export interface DashboardStatisticsDeps {
  statistics: Statistics;
  boxes: ReadonlyMap<string, BoxDefinition>;
  clock: Clock;
  catalogues: Catalogues;
  /** `css`: the dashboard's style sheet (served by the box routes); the others are served here. */
  assets: { css: Asset; statsCss: Asset; chart: Asset; js: Asset };
  /** Admits signed-in clerks and admins (requirePerson('clerk')). */
  guard: MiddlewareHandler<AppEnv>;
  personOf: (c: Context<AppEnv>) => DashboardPerson;
}

type Problem = { key: string; field: 'from' | 'to' | 'granularity' };

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (value: string | undefined): boolean => value !== undefined && DATE.test(value) && DateTime.fromISO(value, { zone: 'utc' }).isValid;

/** What is wrong with the range, for a person: the catalogue key of the message and the field. */
function problemOf(error: DokuboxError, form: { from: string; to: string }): Problem {
  if (error.field === 'granularity') return { key: 'dashboard.stats.error.granularity', field: 'granularity' };
  if (!isDate(form.from)) return { key: 'dashboard.stats.error.from', field: 'from' };
  if (!isDate(form.to)) return { key: 'dashboard.stats.error.to', field: 'to' };
  if (form.from > form.to) return { key: 'dashboard.stats.error.order', field: 'from' };
  return { key: 'dashboard.stats.error.tooLong', field: 'to' };
}

export function dashboardStatisticsRoutes(d: DashboardStatisticsDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const served = [d.assets.statsCss, d.assets.chart, d.assets.js];
  const assetByPath = new Map(served.map((a) => [a.url, a]));
  const pageAssets = { css: d.assets.css.url, statsCss: d.assets.statsCss.url, chart: d.assets.chart.url, js: d.assets.js.url };

  app.get('/assets/:file', async (c, next) => {
    const asset = assetByPath.get(c.req.path);
    if (asset === undefined) return next();
    return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' });
  });

  const boxOf = (c: Context<AppEnv>): BoxDefinition => {
    const boxId = c.req.param('boxId') ?? '';
    const box = d.boxes.get(boxId);
    if (box === undefined || box.authority !== d.personOf(c).authority) throw new DokuboxError('NOT_FOUND', `No box '${boxId}' for your authority.`);
    return box;
  };
  const language = (c: Context<AppEnv>): string => (c.req.query('lang') === 'en' ? 'en' : 'de');

  /** The form's values: as given, else the last 30 days in the box's time zone, by day. */
  const formOf = (c: Context<AppEnv>, box: BoxDefinition) => {
    const today = DateTime.fromMillis(d.clock.now(), { zone: box.timeZone });
    const to = c.req.query('to') ?? today.toISODate() ?? '';
    const fromDefault = isDate(to) ? DateTime.fromISO(to, { zone: 'utc' }).minus({ days: DEFAULT_RANGE_DAYS - 1 }).toISODate() : today.minus({ days: DEFAULT_RANGE_DAYS - 1 }).toISODate();
    return { from: c.req.query('from') ?? fromDefault ?? '', to, granularity: c.req.query('granularity') ?? 'day' };
  };

  const parse = (form: { from: string; to: string; granularity: string }): { query: StatisticsQuery } | { problem: Problem } => {
    try {
      return { query: parseStatisticsQuery(form) };
    } catch (error) {
      if (error instanceof DokuboxError && error.code === 'VALIDATION_FAILED') return { problem: problemOf(error, form) };
      throw error;
    }
  };

  app.get('/boxes/:boxId/statistics', d.guard, async (c) => {
    const person = d.personOf(c);
    const box = boxOf(c);
    const form = formOf(c, box);
    const parsed = parse(form);
    const base = { catalogues: d.catalogues, language: language(c), box, assets: pageAssets, person: { name: person.name ?? person.username, csrf: person.csrf }, form };
    if ('problem' in parsed) return c.html(statisticsPage({ ...base, problem: parsed.problem }), 400);
    const rows = await d.statistics.getStatistics(box.id, parsed.query);
    return c.html(statisticsPage({ ...base, rows }));
  });

  app.get('/boxes/:boxId/statistics.csv', d.guard, async (c) => {
    const box = boxOf(c);
    const query = parseStatisticsQuery(formOf(c, box));
    const rows = await d.statistics.getStatistics(box.id, query);
    return c.body(statisticsCsv(rows), 200, {
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': `attachment; filename="statistics-${box.id}-${query.from}-${query.to}.csv"`,
    });
  });

  return app;
}
