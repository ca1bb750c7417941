/**
 * The office's view of one box: its compartments as the box front (rows and
 * columns of the box file), coloured by state and updated live by
 * server-sent events, the waiting list and the open alarms.
 */
import type { Child, FC } from 'hono/jsx';
import { frontGrid, type BoxDefinition } from '../../core/box.js';
import type { StoredAlarm } from '../../store/alarms.js';
import type { Catalogues } from '../i18n.js';
import { documentOf } from '../kiosk/pages.js';
import { COMPARTMENT_VIEWS, type CompartmentRow } from './box-view.js';

export interface DashboardAssets {
  css: string;
  js: string;
}

type T = (key: string, values?: Record<string, string | number | Date>) => string;

/** The compartments in display order: rows from the top, columns from the left (null where the front has no compartment). */
export function frontRows(box: BoxDefinition, rows: CompartmentRow[]): (CompartmentRow | null)[][] {
  const grid = frontGrid(box);
  const out: (CompartmentRow | null)[][] = Array.from({ length: grid.rows }, () => Array.from({ length: grid.columns }, () => null));
  rows.forEach((row, index) => {
    const column = Math.floor(index / grid.rows);
    const fromBottom = index % grid.rows;
    const line = out[grid.rows - 1 - fromBottom];
    if (line !== undefined && column < grid.columns) line[column] = row;
  });
  return out;
}

const Layout: FC<{ t: T; lang: string; assets: DashboardAssets; title: string; person: { name: string; csrf: string }; data: string; children?: Child }> = (p) => (
  <html lang={p.lang} dir="ltr">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{p.title}</title>
      <link rel="stylesheet" href={p.assets.css} />
      <script type="module" src={p.assets.js} />
    </head>
    <body data-dashboard={p.data}>
      <header class="bar">
        <p class="brand">dokubox</p>
        <a class="search" href={`/dashboard/pickups?lang=${p.lang}`}>
          {p.t('dashboard.search.title')}
        </a>
        <p class="who">{p.person.name}</p>
        <form method="post" action="/dashboard/sign-out">
          <input type="hidden" name="csrf" value={p.person.csrf} />
          <button type="submit">{p.t('dashboard.box.signOut')}</button>
        </form>
      </header>
      <main id="main">{p.children}</main>
    </body>
  </html>
);

export function boxPage(o: {
  catalogues: Catalogues;
  language: string;
  box: BoxDefinition;
  boxes: BoxDefinition[];
  rows: CompartmentRow[];
  waiting: number;
  alarms: StoredAlarm[];
  assets: DashboardAssets;
  person: { name: string; csrf: string };
}): string {
  const t: T = (key, values = {}) => o.catalogues.t(o.language, key, values, o.box.timeZone);
  const counts = Object.fromEntries(COMPARTMENT_VIEWS.map((v) => [v, o.rows.filter((r) => r.view === v).length]));
  const stateName = (view: string) => t(`dashboard.state.${view}`);
  return documentOf(
    <Layout t={t} lang={o.language} assets={o.assets} title={o.box.name} person={o.person} data={JSON.stringify({ page: 'box', boxId: o.box.id, states: Object.fromEntries(COMPARTMENT_VIEWS.map((v) => [v, stateName(v)])) })}>
      <nav aria-label={t('dashboard.boxes')}>
        <ul class="boxes">
          {o.boxes.map((b) => (
            <li>
              <a href={`/dashboard/boxes/${b.id}`} aria-current={b.id === o.box.id ? 'page' : undefined}>
                {b.name}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <h1>{o.box.name}</h1>
      <p class="location">{o.box.location}</p>
      <p>
        <a href={`/dashboard/boxes/${o.box.id}/statistics?lang=${o.language}`}>{t('dashboard.stats.link')}</a>
      </p>
      <section aria-labelledby="h-grid">
        <h2 id="h-grid">{t('dashboard.box.grid')}</h2>
        <ul class="legend" aria-label={t('dashboard.box.legend')}>
          {COMPARTMENT_VIEWS.map((v) => (
            <li>
              <span class={`swatch v-${v}`} aria-hidden="true" /> {stateName(v)}: <span data-count={v}>{counts[v] ?? 0}</span>
            </li>
          ))}
        </ul>
        <p class="live" role="status" data-live>
          {t('dashboard.box.live')}
        </p>
        <table class="front">
          <caption class="visually-hidden">{t('dashboard.box.grid')}</caption>
          <tbody>
            {frontRows(o.box, o.rows).map((line) => (
              <tr>
                {line.map((cell) =>
                  cell === null ? (
                    <td class="none" />
                  ) : (
                    <td id={`c-${cell.id}`} class={`v-${cell.view}`} data-view={cell.view}>
                      <span class="id">{cell.id}</span>
                      <span class="visually-hidden" data-state>
                        {stateName(cell.view)}
                      </span>
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="h-waiting">
        <h2 id="h-waiting">{t('dashboard.box.waitingTitle')}</h2>
        <p data-waiting>{t('dashboard.box.waiting', { count: o.waiting })}</p>
      </section>
      <section aria-labelledby="h-alarms">
        <h2 id="h-alarms">{t('dashboard.alarms.title')}</h2>
        {o.alarms.length === 0 ? <p data-no-alarms>{t('dashboard.alarms.none')}</p> : null}
        <ul class="alarms" data-alarms>
          {o.alarms.map((a) => (
            <li data-alarm={a.id}>
              <span class="kind">{a.kind}</span> {a.compartment === undefined ? '' : `· ${a.compartment} `}
              <time datetime={a.at}>{new Date(a.at).toLocaleString('de-DE', { timeZone: o.box.timeZone })}</time>
              {a.detail === undefined ? null : <span class="detail"> {a.detail}</span>}
              <form method="post" action={`/dashboard/alarms/${a.id}/acknowledge`}>
                <input type="hidden" name="csrf" value={o.person.csrf} />
                <input type="hidden" name="boxId" value={o.box.id} />
                <button type="submit">{t('dashboard.alarms.acknowledge')}</button>
              </form>
            </li>
          ))}
        </ul>
      </section>
    </Layout>,
  );
}
