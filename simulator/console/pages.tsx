/**
 * The simulator's console for testers (`/`): the box front with every door,
 * lock and item sensor; the selected compartment's buttons and faults; the
 * embedded kiosk as it appears on the box; the phones with their SMS; the
 * case system's notices and the status reports per pickup; the fault
 * switches; how dokubox reacts (alarms, report queue, dead letters); the
 * world's clock. Rendered on the server with Hono's JSX in German or English
 * (mappings/i18n/console); the browser script (client.ts) follows the
 * world's events and reloads the parts that changed (GET /parts/:name).
 */
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { BoxDefinition } from '../../src/core/box.js';
import type { DocumentType } from '../../src/core/documents.js';
import { loadDocumentTypes } from '../../src/mappings/loaders.js';
import { projectPath } from '../../src/project-root.js';
import { loadAsset, type Asset } from '../../src/web/assets.js';
import { loadCatalogues, type Catalogues } from '../../src/web/i18n.js';
import { WORLD_PHONES, type SimulatedWorld } from '../world.js';
import { middlewareSummarySource, type ApiKeyAccess, type MiddlewareSummarySource } from './middleware.js';
import {
  clockPart,
  compartmentPart,
  faultsPart,
  FrontLegend,
  frontPart,
  middlewarePart,
  NOTICE_LANGUAGES,
  noticesPart,
  phonesPart,
  translator,
  type T,
  type ViewContext,
} from './view.js';

export interface ConsoleSettings {
  /** The middleware's address (the kiosk is embedded from there). */
  middlewareUrl: () => string;
  /** A one-time kiosk enrollment for the embedded kiosk, per box (created by the simulator once the middleware listens). */
  kioskEnrollment?: (boxId: string) => Promise<string | undefined>;
  /** The development API keys the simulator got from the middleware's start; with them the console reads alarms and queues server-side. */
  middlewareAccess?: () => ApiKeyAccess | undefined;
}

/** The kiosk PC's screen, in CSS pixels; the console shows it scaled to its column. */
export const KIOSK_SCREEN = { width: 1280, height: 1024 } as const;

const PARTS = {
  clock: clockPart,
  front: frontPart,
  compartment: compartmentPart,
  faults: faultsPart,
  phones: phonesPart,
  notices: noticesPart,
  middleware: middlewarePart,
} as const satisfies Record<string, (c: ViewContext) => Child>;
type PartName = keyof typeof PARTS;

export interface ConsoleAssets {
  css: Asset;
  js: Asset;
}

export function consoleAssets(): ConsoleAssets {
  return {
    css: loadAsset(projectPath('simulator/console/console.css'), '/assets', 'console.css'),
    js: loadAsset(projectPath('simulator/console/client.ts'), '/assets', 'console.ts'),
  };
}

export function consolePages(world: SimulatedWorld, settings: ConsoleSettings, summary: MiddlewareSummarySource = middlewareSummarySource(world, settings.middlewareUrl, () => settings.middlewareAccess?.())): Hono {
  const app = new Hono();
  const catalogues: Catalogues = loadCatalogues(projectPath('mappings/i18n/console'));
  const documentTypes: DocumentType[] = loadDocumentTypes(projectPath('mappings/document-types.yaml'));
  const assets = consoleAssets();
  const assetByPath = new Map([assets.css, assets.js].map((a) => [a.url, a]));

  const boxOf = (c: Context): BoxDefinition => {
    const wanted = c.req.query('box');
    return world.boxes.find((b) => b.id === wanted) ?? world.boxes.find((b) => world.lockers.has(b.id)) ?? (world.boxes[0] as BoxDefinition);
  };
  const langOf = (c: Context): 'de' | 'en' => (c.req.query('lang') === 'en' ? 'en' : 'de');
  const context = async (c: Context): Promise<ViewContext> => {
    const box = boxOf(c);
    const lang = langOf(c);
    const selected = c.req.query('c');
    return {
      world,
      box,
      lang,
      t: translator(catalogues, lang, box.timeZone),
      summary: await summary.read(),
      selected: selected !== undefined && box.compartments.some((x) => x.id === selected) ? selected : undefined,
      documentTypes,
    };
  };

  app.get('/assets/:file', (c) => {
    const asset = assetByPath.get(`/assets/${c.req.param('file')}`);
    if (asset === undefined) return c.text('No such asset.', 404);
    return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' });
  });

  app.get('/favicon.ico', (c) => c.body(null, 204));

  app.get('/parts/:name', async (c) => {
    const name = c.req.param('name');
    if (!Object.hasOwn(PARTS, name)) return c.text(`No part '${name}'; the parts are ${Object.keys(PARTS).join(', ')}.`, 404);
    const render = PARTS[name as PartName];
    return c.html(String(render(await context(c))), 200, { 'cache-control': 'no-store' });
  });

  app.get('/', async (c) => {
    const view = await context(c);
    const middleware = settings.middlewareUrl();
    const code = middleware === '' ? undefined : await settings.kioskEnrollment?.(view.box.id).catch(() => undefined);
    return c.html(`<!doctype html>${String(<ConsolePage view={view} assets={assets} middleware={middleware} enrollment={code} />)}`, 200, { 'cache-control': 'no-store' });
  });

  return app;
}

function query(view: ViewContext, changes: Record<string, string | undefined>): string {
  const params = new URLSearchParams({ box: view.box.id, lang: view.lang, ...(view.selected === undefined ? {} : { c: view.selected }) });
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) params.delete(k);
    else params.set(k, v);
  }
  return `?${params.toString()}`;
}

const Part = ({ name, view, label }: { name: PartName; view: ViewContext; label?: string }) => (
  <div data-part={name} aria-label={label} role={label === undefined ? undefined : 'region'}>
    {PARTS[name](view)}
  </div>
);

const Section = ({ id, title, children }: { id: string; title: string; children?: Child }) => (
  <section id={id} class="panel" aria-labelledby={`h-${id}`}>
    <h2 id={`h-${id}`}>{title}</h2>
    {children}
  </section>
);

function ConsolePage({ view, assets, middleware, enrollment }: { view: ViewContext; assets: ConsoleAssets; middleware: string; enrollment: string | undefined }) {
  const { t, box } = view;
  const data = { box: box.id, lang: view.lang, selected: view.selected ?? null, zone: box.timeZone, texts: { sent: t('message.sent'), done: t('message.done'), failed: t('message.failed'), offline: t('message.offline'), live: t('live.on') } };
  const kioskSrc = middleware === '' ? undefined : `${middleware}/kiosk${enrollment === undefined ? '' : `#code=${encodeURIComponent(enrollment)}`}`;
  return (
    <html lang={view.lang} dir="ltr">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{t('app.title', { box: box.name })}</title>
        <link rel="stylesheet" href={assets.css.url} />
        <script type="module" src={assets.js.url} />
      </head>
      <body data-console={JSON.stringify(data)}>
        <header class="bar">
          <h1>{t('app.heading')}</h1>
          <Part name="clock" view={view} />
          <JumpForm t={t} />
          <p class="live" role="status" data-live>
            {t('live.connecting')}
          </p>
          <nav aria-label={t('nav.label')}>
            {view.world.boxes.length > 1
              ? view.world.boxes.map((b) => (
                  <a href={query(view, { box: b.id, c: undefined })} aria-current={b.id === box.id ? 'page' : undefined}>
                    {b.name}
                  </a>
                ))
              : null}
            <a href={query(view, { lang: view.lang === 'de' ? 'en' : 'de' })} lang={view.lang === 'de' ? 'en' : 'de'}>
              {view.lang === 'de' ? 'English' : 'Deutsch'}
            </a>
            {middleware === '' ? null : <a href={`${middleware}/dashboard`}>{t('nav.dashboard')}</a>}
          </nav>
        </header>
        <p id="message" class="message" role="status" aria-live="polite" data-message />
        <main id="main">
          <div class="column">
            <Section id="box" title={t('front.title', { box: box.name })}>
              <FrontLegend t={t} />
              <p class="hint">{t('front.hint')}</p>
              <Part name="front" view={view} />
              <Part name="compartment" view={view} label={t('compartment.region')} />
            </Section>
            <Section id="case-system" title={t('caseSystem.title')}>
              <NoticeForm view={view} />
              <h3>{t('notices.title')}</h3>
              <Part name="notices" view={view} />
            </Section>
            <Section id="dokubox" title={t('dokubox.title')}>
              <Part name="middleware" view={view} />
            </Section>
          </div>
          <div class="column">
            <Section id="kiosk" title={t('kiosk.title')}>
              {kioskSrc === undefined ? (
                <p>{t('kiosk.noMiddleware')}</p>
              ) : (
                <>
                  <div class="kiosk-screen" data-kiosk-screen data-width={String(KIOSK_SCREEN.width)} data-height={String(KIOSK_SCREEN.height)}>
                    <iframe src={kioskSrc} title={t('kiosk.frame', { box: box.name })} width={String(KIOSK_SCREEN.width)} height={String(KIOSK_SCREEN.height)} data-kiosk-frame />
                  </div>
                  <p class="hint">
                    {enrollment === undefined ? t('kiosk.notEnrolled') : t('kiosk.enrolled')} <a href={`${middleware}/kiosk`}>{t('kiosk.open')}</a>
                  </p>
                </>
              )}
            </Section>
            <Section id="phones" title={t('phones.title')}>
              <Part name="phones" view={view} />
            </Section>
            <Section id="faults" title={t('faults.title')}>
              <Part name="faults" view={view} />
            </Section>
          </div>
        </main>
      </body>
    </html>
  );
}

function JumpForm({ t }: { t: T }) {
  return (
    <form class="jump" data-form="jump">
      <label for="jump-at">{t('clock.jumpLabel')}</label>
      <input id="jump-at" name="at" type="datetime-local" required />
      <button type="submit" class="small">
        {t('clock.jump')}
      </button>
    </form>
  );
}

function NoticeForm({ view }: { view: ViewContext }) {
  const { t } = view;
  return (
    <form class="notice-form" data-form="notice">
      <div class="fields">
        <p>
          <label for="n-box">{t('form.box')}</label>
          <select id="n-box" name="boxId">
            {view.world.boxes.map((b) => (
              <option value={b.id} selected={b.id === view.box.id}>
                {b.name}
              </option>
            ))}
          </select>
        </p>
        <p>
          <label for="n-count">{t('form.count')}</label>
          <input id="n-count" name="count" type="number" min="1" max="1000" value="1" required />
        </p>
        <p>
          <label for="n-format">{t('form.format')}</label>
          <select id="n-format" name="format">
            <option value="soap">{t('form.format.soap')}</option>
            <option value="xoev">{t('form.format.xoev')}</option>
            <option value="xoev-soap">{t('form.format.xoevSoap')}</option>
          </select>
        </p>
        <p>
          <label for="n-language">{t('form.language')}</label>
          <select id="n-language" name="language">
            <option value="">{t('form.language.sample')}</option>
            {NOTICE_LANGUAGES.map((l) => (
              <option value={l}>{t(`language.${l}`)}</option>
            ))}
          </select>
        </p>
        <p>
          <label for="n-mobile">{t('form.phone')}</label>
          <select id="n-mobile" name="mobile">
            <option value="">{t('form.phone.rotate')}</option>
            {WORLD_PHONES.map((p) => (
              <option value={p}>{p}</option>
            ))}
          </select>
        </p>
        <p class="check">
          <input id="n-accessible" name="accessible" type="checkbox" value="true" />
          <label for="n-accessible">{t('form.accessible')}</label>
        </p>
      </div>
      <fieldset>
        <legend>{t('form.documents')}</legend>
        <div class="documents">
          {view.documentTypes.map((d) => (
            <p class="check">
              <input id={`n-doc-${d.id}`} name="documents" type="checkbox" value={d.id} />
              <label for={`n-doc-${d.id}`}>{d.names[view.lang] ?? d.names.de ?? d.id}</label>
            </p>
          ))}
        </div>
        <p class="hint">{t('form.documents.hint')}</p>
      </fieldset>
      <button type="submit">{t('form.send')}</button>
    </form>
  );
}
