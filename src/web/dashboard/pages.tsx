/**
 * Pages of the office's dashboard that belong to signing in, rendered on the
 * server with Hono's JSX in the person's language (mappings/i18n, keys
 * `dashboard.*`). No script: plain forms, each state-changing one with the
 * session's CSRF token in a hidden field.
 */
import type { Child, FC } from 'hono/jsx';
import type { PersonSession } from '../../accounts/sessions.js';
import type { Catalogues } from '../i18n.js';
import { documentOf } from '../kiosk/pages.js';

type T = (key: string, values?: Record<string, string | number | Date>) => string;

/** The languages the dashboard offers in its header (every catalogue has the texts). */
export const DASHBOARD_LANGUAGES = ['de', 'en'] as const;

interface PageBase {
  catalogues: Catalogues;
  language: string;
  css: string;
}

const Layout: FC<PageBase & { title: string; person?: PersonSession; csrf?: string; languagePath?: string; children?: Child }> = (p) => {
  const catalogue = p.catalogues.catalogue(p.language);
  const t: T = (key, values = {}) => p.catalogues.t(catalogue.language, key, values);
  return (
    <html lang={catalogue.language} dir={catalogue.direction}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {p.csrf === undefined ? null : <meta name="csrf-token" content={p.csrf} />}
        <title>{`${p.title} · ${t('dashboard.title')}`}</title>
        <link rel="stylesheet" href={p.css} />
      </head>
      <body>
        <header class="bar">
          <p class="title">{t('dashboard.title')}</p>
          {p.languagePath === undefined ? null : (
            <nav class="languages" aria-label={t('dashboard.language')}>
              <ul>
                {DASHBOARD_LANGUAGES.filter((l) => l !== catalogue.language).map((l) => {
                  const c = p.catalogues.catalogue(l);
                  return (
                    <li>
                      <a href={`${p.languagePath}?lang=${l}`} lang={l} hreflang={l}>
                        {c.name}
                      </a>
                    </li>
                  );
                })}
              </ul>
            </nav>
          )}
          {p.person === undefined || p.csrf === undefined ? null : (
            <>
              <p class="who">
                {t('dashboard.signedIn', { name: p.person.username })} · {t(`dashboard.role.${p.person.role}`)}
              </p>
              <form class="inline" method="post" action={`/dashboard/sign-out?lang=${catalogue.language}`}>
                <input type="hidden" name="csrf" value={p.csrf} />
                <button type="submit">{t('dashboard.signout')}</button>
              </form>
            </>
          )}
        </header>
        <main id="main">{p.children}</main>
      </body>
    </html>
  );
};

export type SignInNotice = 'failed' | 'locked' | 'expired' | 'signedOut';

/** The sign-in form; `notice` says why it is shown again (one message for every failed reason). */
export function signInPage(o: PageBase & { notice?: SignInNotice; lockedUntil?: number; username?: string }): string {
  const t: T = (key, values = {}) => o.catalogues.t(o.language, key, values);
  const problem = o.notice === 'failed' ? t('dashboard.signin.failed') : o.notice === 'locked' ? t('dashboard.signin.locked', { until: new Date(o.lockedUntil ?? 0) }) : undefined;
  const info = o.notice === 'expired' ? t('dashboard.signin.expired') : o.notice === 'signedOut' ? t('dashboard.signedOut') : undefined;
  return documentOf(
    <Layout catalogues={o.catalogues} language={o.language} css={o.css} title={t('dashboard.signin.title')} languagePath="/dashboard/sign-in">
      <h1>{t('dashboard.signin.title')}</h1>
      {problem === undefined ? null : (
        <p class="alert" role="alert" id="signin-problem">
          {problem}
        </p>
      )}
      {info === undefined ? null : (
        <p class="note" role="status">
          {info}
        </p>
      )}
      <p>{t('dashboard.signin.intro')}</p>
      <form method="post" action={`/dashboard/sign-in?lang=${o.language}`}>
        <label for="username">{t('dashboard.signin.username')}</label>
        <input
          id="username"
          name="username"
          type="text"
          autocomplete="username"
          autocapitalize="none"
          spellcheck={false}
          maxlength={64}
          required
          value={o.username ?? ''}
          aria-describedby={problem === undefined ? undefined : 'signin-problem'}
        />
        <label for="password">{t('dashboard.signin.password')}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" maxlength={256} required />
        <button type="submit">{t('dashboard.signin.submit')}</button>
      </form>
    </Layout>,
  );
}

/** The placeholder start page (the real pages come later): who is signed in, and sign-out. */
export function homePage(o: PageBase & { person: PersonSession; boxes?: { id: string; name: string; location: string }[] }): string {
  const t: T = (key, values = {}) => o.catalogues.t(o.language, key, values);
  return documentOf(
    <Layout catalogues={o.catalogues} language={o.language} css={o.css} title={t('dashboard.home.title')} person={o.person} csrf={o.person.csrf} languagePath="/dashboard">
      <h1>{t('dashboard.home.title')}</h1>
      <p>
        {t('dashboard.signedIn', { name: o.person.username })} ({t(`dashboard.role.${o.person.role}`)})
      </p>
      <p>
        <a href={`/dashboard/pickups?lang=${o.language}`}>{t('dashboard.search.title')}</a>
      </p>
      {o.boxes === undefined || o.boxes.length === 0 ? (
        <p>{t('dashboard.home.placeholder')}</p>
      ) : (
        <nav aria-labelledby="h-boxes">
          <h2 id="h-boxes">{t('dashboard.boxes')}</h2>
          <ul>
            {o.boxes.map((b) => (
              <li>
                <a href={`/dashboard/boxes/${b.id}${o.language === 'de' ? '' : `?lang=${o.language}`}`}>{b.name}</a> · {b.location} ·{' '}
                <a href={`/dashboard/boxes/${b.id}/statistics?lang=${o.language}`}>{t('dashboard.stats.link')}</a>
              </li>
            ))}
          </ul>
          {o.person.role === 'admin' ? (
            <p>
              <a href="/dashboard/queues">{t('dashboard.queues.title')}</a>
            </p>
          ) : null}
        </nav>
      )}
    </Layout>,
  );
}

/** A refusal shown as a page (role, CSRF): the message and the stable error code for support. */
export function problemPage(o: PageBase & { key: 'dashboard.forbidden' | 'dashboard.csrf'; code: string; person?: PersonSession }): string {
  const t: T = (key, values = {}) => o.catalogues.t(o.language, key, values);
  return documentOf(
    <Layout catalogues={o.catalogues} language={o.language} css={o.css} title={t('dashboard.problem.title')} person={o.person} csrf={o.person?.csrf}>
      <h1>{t('dashboard.problem.title')}</h1>
      <p class="alert" role="alert">
        {t(o.key)}
      </p>
      <p>
        <a href="/dashboard">{t('dashboard.home.title')}</a>
      </p>
      <p class="code">{o.code}</p>
    </Layout>,
  );
}
