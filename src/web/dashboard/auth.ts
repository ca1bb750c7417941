/**
 * Signing in to the office's dashboard under /dashboard (docs/dashboard.md).
 * People (clerks and admins of an authority) sign in with username and
 * password; their session is an httpOnly, SameSite=Strict cookie limited to
 * /dashboard. State-changing requests pass two CSRF checks: Hono's origin
 * check (csrf()) and the session's synchronizer token, sent by forms as the
 * hidden field `csrf` and by fetch calls as the header `x-csrf-token`.
 *
 * `dashboardAuth(...)` returns the routes (sign-in, sign-out, a placeholder
 * start page) and `requirePerson(...roles)` for the dashboard's other routes.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import type { PersonAccounts, PersonRole } from '../../accounts/accounts.js';
import { csrfMatches, type PersonSession, type PersonSessions } from '../../accounts/sessions.js';
import type { BoxDefinition } from '../../core/box.js';
import type { Clock } from '../../core/clock.js';
import { DokuboxError } from '../../core/errors.js';
import type { AppEnv } from '../../http/context.js';
import { respondError, toDokuboxError } from '../../http/errors.js';
import { projectPath } from '../../project-root.js';
import { loadAsset, type Asset } from '../assets.js';
import type { Catalogues } from '../i18n.js';
import { homePage, problemPage, signInPage, type SignInNotice } from './pages.js';

export const SESSION_COOKIE = 'dokubox_session';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = 'csrf';

export type DashboardEnv = AppEnv & { Variables: { person: PersonSession } };

export interface DashboardAuthDeps {
  accounts: PersonAccounts;
  sessions: PersonSessions;
  clock: Clock;
  catalogues: Catalogues;
  /** Set the Secure flag on the session cookie (behind HTTPS). */
  secureCookies: boolean;
  logger: Logger;
  /** The style sheet of the sign-in pages; defaults to src/web/dashboard/sign-in.css. */
  css?: Asset;
  /** The boxes, listed on the home page (each person sees those of their authority). */
  boxes?: ReadonlyMap<string, BoxDefinition>;
}

export interface DashboardAuth {
  /** Mount at /dashboard (its paths are relative to it; redirects and cookies name /dashboard). */
  routes: Hono<DashboardEnv>;
  /**
   * Loads the session (redirect to sign-in for pages, 401 JSON for API
   * calls), checks the role (admin passes everything; 403 otherwise) and,
   * for every method but GET/HEAD/OPTIONS, the CSRF token (403
   * CSRF_REFUSED). The session is then `c.get('person')`; scope every read
   * and write to `person.authority`.
   */
  requirePerson(...roles: PersonRole[]): MiddlewareHandler<DashboardEnv>;
}

const SAFE_METHOD = /^(GET|HEAD|OPTIONS)$/;
const FORM_TYPE = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/** A call of the dashboard's own scripts (or another program), answered with JSON, not a page. */
function wantsJson(c: Context): boolean {
  if (c.req.path.startsWith('/dashboard/api/')) return true;
  const accept = c.req.header('accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

export function dashboardAuth(d: DashboardAuthDeps): DashboardAuth {
  const css = d.css ?? loadAsset(projectPath('src/web/dashboard/sign-in.css'), '/dashboard/assets', 'sign-in.css');
  const now = (): number => d.clock.now();
  const cookieOptions = { httpOnly: true, sameSite: 'Strict' as const, path: '/dashboard', secure: d.secureCookies, maxAge: Math.floor(d.sessions.absoluteMs / 1000) };

  /** `?lang=` when the catalogues have it, else the first of de/en the browser asks for, else German. */
  const languageOf = (c: Context): string => {
    const asked = c.req.query('lang');
    if (asked !== undefined && d.catalogues.has(asked)) return asked;
    const accept = (c.req.header('accept-language') ?? '').toLowerCase();
    const first = /(?:^|,)\s*(de|en)\b/.exec(accept);
    return first?.[1] ?? 'de';
  };
  const base = (c: Context) => ({ catalogues: d.catalogues, language: languageOf(c), css: css.url });

  const jsonError = (c: Context, error: DokuboxError): Response => respondError(c as unknown as Context<AppEnv>, error);

  /** A refusal: the error envelope for API calls, a page with the message and code for people. */
  const refuse = (c: Context, error: DokuboxError, person?: PersonSession): Response => {
    if (wantsJson(c)) return jsonError(c, error);
    const key = error.code === 'CSRF_REFUSED' ? 'dashboard.csrf' : 'dashboard.forbidden';
    return c.html(problemPage({ ...base(c), key, code: error.code, ...(person === undefined ? {} : { person }) }), error.status as 403);
  };

  const app = new Hono<DashboardEnv>();
  app.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], connectSrc: ["'self'"], frameAncestors: ["'none'"], formAction: ["'self'"], baseUri: ["'none'"] },
      referrerPolicy: 'no-referrer',
      xFrameOptions: 'DENY',
      // A route that sets its own policy keeps it (the queue board: src/web/dashboard/queues.ts).
      overwrite: false,
    }),
  );
  app.use(async (c, next) => {
    await next();
    if (!c.req.path.startsWith('/dashboard/assets/')) c.header('Cache-Control', 'no-store');
  });
  // First CSRF line: a form posted from another origin (or without Origin / Sec-Fetch-Site) is refused.
  app.use(csrf());
  app.use(
    bodyLimit({
      maxSize: 16 * 1024,
      onError: (c) => jsonError(c, new DokuboxError('BODY_TOO_LARGE', 'A dashboard request is under 16 KB.')),
    }),
  );
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status === 403) {
      return refuse(c, new DokuboxError('CSRF_REFUSED', 'This request did not come from a dashboard page (its Origin does not match this site); open the dashboard at this address and send the form again.'));
    }
    const err = toDokuboxError(error);
    if (err.code === 'INTERNAL') d.logger.error({ requestId: c.get('requestId'), err: error instanceof Error ? { type: error.name, message: error.message, stack: error.stack } : String(error) }, 'unhandled error');
    return jsonError(c, err);
  });

  const requirePerson = (...roles: PersonRole[]): MiddlewareHandler<DashboardEnv> => {
    return async (c, next) => {
      const token = getCookie(c, SESSION_COOKIE);
      const person = await d.sessions.get(token, now());
      if (person === undefined) {
        if (token !== undefined) deleteCookie(c, SESSION_COOKIE, { path: '/dashboard', secure: d.secureCookies });
        if (wantsJson(c)) return jsonError(c, new DokuboxError('UNAUTHENTICATED', 'Sign in to the dashboard first (POST /dashboard/sign-in); the session is missing or has ended.'));
        const lang = c.req.query('lang');
        const query = [token === undefined ? '' : 'ended=expired', lang !== undefined && d.catalogues.has(lang) ? `lang=${lang}` : ''].filter((q) => q !== '').join('&');
        return c.redirect(`/dashboard/sign-in${query === '' ? '' : `?${query}`}`, 303);
      }
      c.set('person', person);
      c.set('client', { id: person.username, role: person.role === 'admin' ? 'admin' : 'staff', authority: person.authority });
      if (!SAFE_METHOD.test(c.req.method)) {
        // Second CSRF line: the session's synchronizer token, from the header (fetch) or the form field.
        let presented = c.req.header(CSRF_HEADER);
        if (presented === undefined && FORM_TYPE.test(c.req.header('content-type') ?? '')) {
          const field = (await c.req.parseBody())[CSRF_FIELD];
          presented = typeof field === 'string' ? field : undefined;
        }
        if (!csrfMatches(person, presented)) {
          d.logger.warn({ requestId: c.get('requestId'), username: person.username, method: c.req.method, path: c.req.path }, 'dashboard request without a valid CSRF token refused');
          return refuse(
            c,
            new DokuboxError('CSRF_REFUSED', `A ${c.req.method} to the dashboard needs the session's CSRF token: the hidden form field "${CSRF_FIELD}" or the header "${CSRF_HEADER}" (from <meta name="csrf-token">); reload the page.`),
            person,
          );
        }
      }
      if (person.role !== 'admin' && roles.length > 0 && !roles.includes(person.role)) {
        return refuse(c, new DokuboxError('FORBIDDEN', `You are signed in as '${person.role}'; this needs one of: ${['admin', ...roles.filter((r) => r !== 'admin')].join(', ')}.`), person);
      }
      await next();
    };
  };

  // Other dashboard routes serve their own assets under /dashboard/assets too.
  app.get('/assets/:file', async (c, next) => {
    if (c.req.path !== css.url) return next();
    return c.body(css.body, 200, { 'content-type': css.type, 'cache-control': 'public, max-age=31536000, immutable' });
  });

  app.get('/sign-in', async (c) => {
    if ((await d.sessions.get(getCookie(c, SESSION_COOKIE), now())) !== undefined) return c.redirect('/dashboard', 303);
    const ended = c.req.query('ended');
    const notice: SignInNotice | undefined = ended === 'expired' ? 'expired' : ended === 'signed-out' ? 'signedOut' : undefined;
    return c.html(signInPage({ ...base(c), ...(notice === undefined ? {} : { notice }) }));
  });

  app.post('/sign-in', async (c) => {
    const form = await c.req.parseBody();
    const username = typeof form.username === 'string' ? form.username.slice(0, 128) : '';
    const password = typeof form.password === 'string' ? form.password.slice(0, 1024) : '';
    const result = await d.accounts.verify(username, password, now());
    // The username is shown again only as typed; it is never logged on failure (it may be a mistyped password).
    const shownUsername = username.trim().slice(0, 64);
    if (!result.ok) {
      if (result.locked !== undefined) {
        d.logger.warn({ requestId: c.get('requestId'), lockedUntil: new Date(result.locked.until).toISOString() }, 'dashboard sign-in locked');
        c.header('Retry-After', String(Math.max(1, Math.ceil((result.locked.until - now()) / 1000))));
        return c.html(signInPage({ ...base(c), notice: 'locked', lockedUntil: result.locked.until, username: shownUsername }), 429);
      }
      d.logger.info({ requestId: c.get('requestId') }, 'dashboard sign-in failed');
      return c.html(signInPage({ ...base(c), notice: 'failed', username: shownUsername }), 401);
    }
    // A new session on every sign-in (no fixation): a session this browser held before ends.
    await d.sessions.end(getCookie(c, SESSION_COOKIE));
    const { token } = await d.sessions.start(result.account, now());
    setCookie(c, SESSION_COOKIE, token, cookieOptions);
    d.logger.info({ requestId: c.get('requestId'), username: result.account.username, authority: result.account.authority, role: result.account.role }, 'dashboard sign-in');
    return c.redirect('/dashboard', 303);
  });

  app.post('/sign-out', requirePerson(), async (c) => {
    await d.sessions.end(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/dashboard', secure: d.secureCookies });
    const lang = c.req.query('lang');
    return c.redirect(`/dashboard/sign-in?ended=signed-out${lang !== undefined && d.catalogues.has(lang) ? `&lang=${lang}` : ''}`, 303);
  });

  app.get('/', requirePerson('clerk'), (c) => {
    const person = c.get('person');
    const boxes = [...(d.boxes?.values() ?? [])].filter((b) => b.authority === person.authority).map((b) => ({ id: b.id, name: b.name, location: b.location }));
    return c.html(homePage({ ...base(c), person, boxes }));
  });

  return { routes: app, requirePerson };
}
