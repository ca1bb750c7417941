/**
 * The statistics page of one box (issue 11, docs/statistics.md): a form for
 * the range and granularity, a chart drawn by Chart.js (an enhancement: the
 * canvas is an image with a summary, the table carries the same numbers for
 * everyone), the table, and a CSV download of the same range.
 */
import type { FC } from 'hono/jsx';
import type { BoxDefinition } from '../../core/box.js';
import type { Granularity, StatisticsRow } from '../../stats/statistics.js';
import type { Catalogues } from '../i18n.js';
import { documentOf } from '../kiosk/pages.js';

type T = (key: string, values?: Record<string, string | number | Date>) => string;

export interface StatisticsPageAssets {
  /** The dashboard's style sheet (shared with the box page). */
  css: string;
  /** The statistics page's own style sheet. */
  statsCss: string;
  /** Chart.js (its UMD build, served by the app). */
  chart: string;
  /** The page's script that draws the chart. */
  js: string;
}

/** What the page's script reads from the page to draw the chart. */
export interface ChartData {
  labels: string[];
  series: { key: 'notices' | 'collected' | 'expired'; label: string; values: number[] }[];
  rate: { label: string; values: (number | null)[] };
  axes: { count: string; rate: string };
}

/** The columns of the table, in order, with their catalogue key. */
const COLUMNS: { key: keyof StatisticsRow; label: string }[] = [
  { key: 'notices', label: 'dashboard.stats.col.notices' },
  { key: 'collected', label: 'dashboard.stats.col.collected' },
  { key: 'expired', label: 'dashboard.stats.col.expired' },
  { key: 'cancelled', label: 'dashboard.stats.col.cancelled' },
  { key: 'waited', label: 'dashboard.stats.col.waited' },
  { key: 'medianMinutesToPickup', label: 'dashboard.stats.col.median' },
  { key: 'smsDelivered', label: 'dashboard.stats.col.smsDelivered' },
  { key: 'smsUndeliverable', label: 'dashboard.stats.col.smsUndeliverable' },
  { key: 'smsFailed', label: 'dashboard.stats.col.smsFailed' },
  { key: 'smsDeliveryRate', label: 'dashboard.stats.col.smsRate' },
];

export interface StatisticsPageOptions {
  catalogues: Catalogues;
  language: string;
  box: BoxDefinition;
  assets: StatisticsPageAssets;
  person: { name: string; csrf: string };
  /** The form's values as given (also when they are wrong). */
  form: { from: string; to: string; granularity: string };
  /** The rows; undefined when the form's values are wrong (then `problem` says why). */
  rows?: StatisticsRow[];
  /** The catalogue key of what is wrong with the form, and the field. */
  problem?: { key: string; field: 'from' | 'to' | 'granularity' };
}

const Header: FC<{ t: T; person: { name: string; csrf: string } }> = ({ t, person }) => (
  <header class="bar">
    <p class="brand">dokubox</p>
    <p class="who">{person.name}</p>
    <form method="post" action="/dashboard/sign-out">
      <input type="hidden" name="csrf" value={person.csrf} />
      <button type="submit">{t('dashboard.box.signOut')}</button>
    </form>
  </header>
);

export function statisticsPage(o: StatisticsPageOptions): string {
  const catalogue = o.catalogues.catalogue(o.language);
  const t: T = (key, values = {}) => o.catalogues.t(catalogue.language, key, values, o.box.timeZone);
  const numbers = new Intl.NumberFormat(catalogue.locale, { maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(catalogue.locale, { style: 'percent', maximumFractionDigits: 1 });
  const cell = (row: StatisticsRow, key: keyof StatisticsRow): string => {
    const value = row[key];
    if (value === null) return '–';
    if (key === 'smsDeliveryRate' && typeof value === 'number') return percent.format(value);
    return typeof value === 'number' ? numbers.format(value) : value;
  };
  const query = (extra: Record<string, string>) => new URLSearchParams({ ...o.form, lang: catalogue.language, ...extra }).toString();
  const rows = o.rows ?? [];
  const sum = (key: 'notices' | 'collected' | 'expired' | 'smsDelivered' | 'smsUndeliverable' | 'smsFailed') => rows.reduce((total, row) => total + row[key], 0);
  const outcomes = sum('smsDelivered') + sum('smsUndeliverable') + sum('smsFailed');
  const range = `${o.form.from} – ${o.form.to}`;
  const summary = [
    t('dashboard.stats.chartLabel'),
    `${t('dashboard.stats.total')} ${range}:`,
    `${t('dashboard.stats.col.notices')} ${numbers.format(sum('notices'))},`,
    `${t('dashboard.stats.col.collected')} ${numbers.format(sum('collected'))},`,
    `${t('dashboard.stats.col.expired')} ${numbers.format(sum('expired'))},`,
    `${t('dashboard.stats.col.smsRate')} ${outcomes === 0 ? '–' : percent.format(sum('smsDelivered') / outcomes)}.`,
  ].join(' ');
  const chart: ChartData = {
    labels: rows.map((r) => r.period),
    series: (['notices', 'collected', 'expired'] as const).map((key) => ({ key, label: t(`dashboard.stats.col.${key}`), values: rows.map((r) => r[key]) })),
    rate: { label: t('dashboard.stats.axis.rate'), values: rows.map((r) => (r.smsDeliveryRate === null ? null : Math.round(r.smsDeliveryRate * 1000) / 10)) },
    axes: { count: t('dashboard.stats.axis.count'), rate: t('dashboard.stats.axis.rate') },
  };
  const invalid = (field: 'from' | 'to' | 'granularity') => (o.problem?.field === field ? { 'aria-invalid': 'true', 'aria-describedby': 'stats-problem' } : {});
  const title = t('dashboard.stats.title', { name: o.box.name });

  return documentOf(
    <html lang={catalogue.language} dir={catalogue.direction}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
        <link rel="stylesheet" href={o.assets.css} />
        <link rel="stylesheet" href={o.assets.statsCss} />
        {o.rows === undefined ? null : <script defer src={o.assets.chart} />}
        {o.rows === undefined ? null : <script type="module" src={o.assets.js} />}
      </head>
      <body>
        <Header t={t} person={o.person} />
        <main id="main">
          <p>
            <a href={`/dashboard/boxes/${o.box.id}?lang=${catalogue.language}`}>{t('dashboard.stats.back')}</a>
          </p>
          <h1>{title}</h1>
          <p class="location">{o.box.location}</p>
          {o.problem === undefined ? null : (
            <p class="alert" role="alert" id="stats-problem">
              {t(o.problem.key)}
            </p>
          )}
          <form method="get" action={`/dashboard/boxes/${o.box.id}/statistics`} class="range" aria-labelledby="h-range">
            <h2 id="h-range">{t('dashboard.stats.form')}</h2>
            <input type="hidden" name="lang" value={catalogue.language} />
            <p>
              <label for="from">{t('dashboard.stats.from')}</label>
              <input id="from" name="from" type="date" required value={o.form.from} {...invalid('from')} />
            </p>
            <p>
              <label for="to">{t('dashboard.stats.to')}</label>
              <input id="to" name="to" type="date" required value={o.form.to} {...invalid('to')} />
            </p>
            <p>
              <label for="granularity">{t('dashboard.stats.granularity')}</label>
              <select id="granularity" name="granularity" {...invalid('granularity')}>
                {(['day', 'week'] satisfies Granularity[]).map((g) => (
                  <option value={g} selected={o.form.granularity === g}>
                    {t(`dashboard.stats.${g}`)}
                  </option>
                ))}
              </select>
            </p>
            <p>
              <button type="submit">{t('dashboard.stats.show')}</button>
            </p>
          </form>
          {o.rows === undefined ? null : (
            <>
              <p>
                <a class="download" href={`/dashboard/boxes/${o.box.id}/statistics.csv?${query({})}`} download>
                  {t('dashboard.stats.download')}
                </a>
              </p>
              <section aria-labelledby="h-chart">
                <h2 id="h-chart">{t('dashboard.stats.chartTitle')}</h2>
                <div class="chart">
                  <canvas id="stats-chart" role="img" aria-label={summary} data-chart={JSON.stringify(chart)} />
                </div>
              </section>
              <section aria-labelledby="h-table">
                <h2 id="h-table">{t('dashboard.stats.tableTitle')}</h2>
                <div class="table-scroll" role="region" aria-labelledby="stats-caption" tabindex={0}>
                  <table class="stats">
                    <caption id="stats-caption">
                      {t('dashboard.stats.caption')} ({range}, {t(`dashboard.stats.${o.form.granularity === 'week' ? 'week' : 'day'}`)})
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">{t('dashboard.stats.col.period')}</th>
                        {COLUMNS.map((c) => (
                          <th scope="col">{t(c.label)}</th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((row) => (
                        <tr data-period={row.period}>
                          <th scope="row">{row.period}</th>
                          {COLUMNS.map((c) => (
                            <td data-column={c.key}>{cell(row, c.key)}</td>
                          ))}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </section>
            </>
          )}
        </main>
      </body>
    </html>,
  );
}
