/**
 * The dashboard's pickup pages (src/web/dashboard/pickup-routes.ts): the
 * search and its results, and one pickup's page with its story, the audit
 * trail and the action forms. Rendered on the server, no script; every form
 * that changes something carries the session's CSRF token.
 */
import type { Child, FC } from 'hono/jsx';
import type { PersonSession } from '../../accounts/sessions.js';
import type { ReportStatus } from '../../case-system/reports.js';
import type { BoxDefinition } from '../../core/box.js';
import { lastFaultOf, PICKUP_STATES } from '../../core/pickup.js';
import type { PickupStory, PickupView, RevealedPerson } from '../../service/types.js';
import type { StoredAuditEntry } from '../../store/audit.js';
import type { Catalogues } from '../i18n.js';
import { documentOf } from '../kiosk/pages.js';
import { DASHBOARD_LANGUAGES } from './pages.js';

type T = (key: string, values?: Record<string, string | number | Date>) => string;

/** What `?done=` may confirm after an action. */
export const DONE_KINDS = ['code', 'extended', 'cancelled', 'opened', 'defective', 'repaired', 'replayed', 'reassigned'] as const;
export type DoneKind = (typeof DONE_KINDS)[number];

/** States in which a pickup has ended (nothing to act on but its compartment). */
const ENDED = new Set(['collected', 'returned', 'cancelled']);

interface PageBase {
  catalogues: Catalogues;
  language: string;
  css: string[];
  person: PersonSession;
}

const Layout: FC<PageBase & { title: string; path: string; query?: string; children?: Child }> = (p) => {
  const catalogue = p.catalogues.catalogue(p.language);
  const t: T = (key, values = {}) => p.catalogues.t(catalogue.language, key, values);
  const lang = catalogue.language;
  return (
    <html lang={lang} dir={catalogue.direction}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="csrf-token" content={p.person.csrf} />
        <title>{`${p.title} · ${t('dashboard.title')}`}</title>
        {p.css.map((href) => (
          <link rel="stylesheet" href={href} />
        ))}
      </head>
      <body>
        <header class="bar">
          <p class="brand">{t('dashboard.title')}</p>
          <nav aria-label={t('dashboard.pickup.nav')}>
            <ul class="nav">
              <li>
                <a href={`/dashboard?lang=${lang}`}>{t('dashboard.home.title')}</a>
              </li>
              <li>
                <a href={`/dashboard/pickups?lang=${lang}`}>{t('dashboard.search.title')}</a>
              </li>
            </ul>
          </nav>
          <nav class="languages" aria-label={t('dashboard.language')}>
            <ul class="nav">
              {DASHBOARD_LANGUAGES.filter((l) => l !== lang).map((l) => (
                <li>
                  <a href={`${p.path}?lang=${l}${p.query ?? ''}`} lang={l} hreflang={l}>
                    {p.catalogues.catalogue(l).name}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <p class="who">
            {t('dashboard.signedIn', { name: p.person.username })} · {t(`dashboard.role.${p.person.role}`)}
          </p>
          <form method="post" action={`/dashboard/sign-out?lang=${lang}`}>
            <input type="hidden" name="csrf" value={p.person.csrf} />
            <button type="submit">{t('dashboard.signout')}</button>
          </form>
        </header>
        <main id="main">{p.children}</main>
      </body>
    </html>
  );
};

const translator = (o: { catalogues: Catalogues; language: string }): T => (key, values = {}) => o.catalogues.t(o.language, key, values);

/** A time in the box's time zone, in the page's language. */
function timeOf(catalogues: Catalogues, language: string, iso: string | null, timeZone: string): string {
  if (iso === null) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(catalogues.catalogue(language).locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(date);
}

const stateName = (t: T, state: string | null): string => (state === null ? '–' : (PICKUP_STATES as readonly string[]).includes(state) ? t(`dashboard.pickup.state.${state}`) : state);
/** Reports carry the pickup's states and the SMS statuses that change no state (smsFailed, smsDelivered, ...). */
const REPORT_ONLY_STATUSES: readonly string[] = ['smsFailed', 'smsDelivered', 'smsUndeliverable', 'reminderSent'] satisfies ReportStatus[];
const reportStatusName = (t: T, status: string): string => (REPORT_ONLY_STATUSES.includes(status) ? t(`dashboard.pickup.reportStatus.${status}`) : stateName(t, status));

export type SearchResult = PickupView & { boxName: string; timeZone: string };

export function searchPage(o: PageBase & { caseNumber: string; documentNumber: string; results?: SearchResult[]; problem?: string }): string {
  const t = translator(o);
  const query = o.caseNumber !== '' ? `&caseNumber=${encodeURIComponent(o.caseNumber)}` : o.documentNumber !== '' ? `&documentNumber=${encodeURIComponent(o.documentNumber)}` : '';
  return documentOf(
    <Layout {...o} title={t('dashboard.search.title')} path="/dashboard/pickups" query={query}>
      <h1>{t('dashboard.search.title')}</h1>
      <p>{t('dashboard.search.intro')}</p>
      {o.problem === undefined ? null : (
        <p class="alert" role="alert" id="search-problem">
          {t(o.problem)}
        </p>
      )}
      <div class="searches">
        <form method="get" action="/dashboard/pickups" role="search" aria-label={t('dashboard.search.byCase')}>
          <input type="hidden" name="lang" value={o.language} />
          <label for="caseNumber">{t('dashboard.search.caseNumber')}</label>
          <input id="caseNumber" name="caseNumber" type="search" maxlength={64} autocomplete="off" value={o.caseNumber} />
          <button type="submit">{t('dashboard.search.byCase')}</button>
        </form>
        <form method="get" action="/dashboard/pickups" role="search" aria-label={t('dashboard.search.byDocument')}>
          <input type="hidden" name="lang" value={o.language} />
          <label for="documentNumber">{t('dashboard.search.documentNumber')}</label>
          <input id="documentNumber" name="documentNumber" type="search" maxlength={32} autocomplete="off" value={o.documentNumber} />
          <button type="submit">{t('dashboard.search.byDocument')}</button>
        </form>
      </div>
      {o.results === undefined ? null : (
        <section aria-labelledby="h-results">
          <h2 id="h-results">{t('dashboard.search.results')}</h2>
          <p role="status" data-count={o.results.length}>
            {t('dashboard.search.found', { count: o.results.length })}
          </p>
          {o.results.length === 0 ? null : (
            <table class="data" data-results>
              <thead>
                <tr>
                  <th scope="col">{t('dashboard.search.caseNumber')}</th>
                  <th scope="col">{t('dashboard.pickup.box')}</th>
                  <th scope="col">{t('dashboard.pickup.stateLabel')}</th>
                  <th scope="col">{t('dashboard.pickup.compartment')}</th>
                  <th scope="col">{t('dashboard.pickup.created')}</th>
                  <th scope="col">{t('dashboard.pickup.details')}</th>
                </tr>
              </thead>
              <tbody>
                {o.results.map((p) => (
                  <tr data-pickup={p.id}>
                    <td>{p.caseNumber}</td>
                    <td>{p.boxName}</td>
                    <td>{stateName(t, p.state)}</td>
                    <td>{p.compartment ?? '–'}</td>
                    <td>
                      <time datetime={p.createdAt}>{timeOf(o.catalogues, o.language, p.createdAt, p.timeZone)}</time>
                    </td>
                    <td>
                      <a href={`/dashboard/pickups/${encodeURIComponent(p.id)}?lang=${o.language}`}>{t('dashboard.pickup.open', { name: `${p.caseNumber} · ${timeOf(o.catalogues, o.language, p.createdAt, p.timeZone)}` })}</a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </Layout>,
  );
}

export interface PickupPageData {
  story: PickupStory;
  audit: StoredAuditEntry[];
  box: BoxDefinition;
  codeGeneration: number;
  maxCodes: number;
  maxWorkingDays: number;
  /** The box has a connected locker (remote opening possible). */
  lockerConnected: boolean;
  /** The pickup's compartment is marked defective. */
  defective: boolean;
}

/** One action: a form with its CSRF token and a required reason. */
const ActionForm: FC<{ t: T; id: string; action: string; csrf: string; submit: string; legend: string; children?: Child }> = (p) => (
  <form method="post" action={p.action} id={`f-${p.id}`} class="action">
    <fieldset>
      <legend>{p.legend}</legend>
      <input type="hidden" name="csrf" value={p.csrf} />
      {p.children}
      <label for={`reason-${p.id}`}>{p.t('dashboard.action.reason')}</label>
      <input id={`reason-${p.id}`} name="reason" type="text" required minlength={5} maxlength={200} autocomplete="off" />
      <button type="submit">{p.submit}</button>
    </fieldset>
  </form>
);

export function pickupPage(o: PageBase & PickupPageData & { done?: DoneKind; problem?: { key: string; detail?: string }; revealed?: RevealedPerson }): string {
  const t = translator(o);
  const { pickup, timeline, sms, reports, person } = o.story;
  const tz = o.box.timeZone;
  const time = (iso: string | null) => timeOf(o.catalogues, o.language, iso, tz);
  const base = `/dashboard/pickups/${encodeURIComponent(pickup.id)}`;
  // Notified, or loaded with the SMS with its code failed: a new code's SMS takes its place (PickupService.issueNewCode).
  const newCode = pickup.state === 'notified' || (pickup.state === 'loaded' && sms.some((s) => (s.kind === 'ready' || s.kind === 'code') && s.status === 'failed'));
  // A fault before the documents went in (from reserved): they can go into another compartment (PickupService.reassignAfterFault).
  const fault = lastFaultOf(o.story.timeline);
  const reassign = pickup.state === 'fault' && fault?.from === 'reserved';
  const q = `?lang=${o.language}`;
  const ended = ENDED.has(pickup.state);
  const dead = reports.some((r) => r.delivery === 'dead');
  const csrf = o.person.csrf;
  const title = t('dashboard.pickup.title', { name: pickup.caseNumber });
  return documentOf(
    <Layout {...o} title={title} path={base}>
      <h1>{title}</h1>
      {o.done === undefined ? null : (
        <p class="done" role="status" data-done={o.done}>
          {t(`dashboard.action.done.${o.done}`)}
        </p>
      )}
      {o.problem === undefined ? null : (
        <div class="alert" role="alert" data-problem={o.problem.key}>
          <p>{t(o.problem.key, { total: o.maxCodes })}</p>
          {o.problem.detail === undefined ? null : (
            <p class="code" lang="en">
              {o.problem.detail}
            </p>
          )}
        </div>
      )}
      <dl class="facts">
        <dt>{t('dashboard.search.caseNumber')}</dt>
        <dd>{pickup.caseNumber}</dd>
        <dt>{t('dashboard.pickup.box')}</dt>
        <dd>
          <a href={`/dashboard/boxes/${o.box.id}${q}`}>{o.box.name}</a>
        </dd>
        <dt>{t('dashboard.pickup.stateLabel')}</dt>
        <dd data-state={pickup.state}>{stateName(t, pickup.state)}</dd>
        <dt>{t('dashboard.pickup.compartment')}</dt>
        <dd>
          {pickup.compartment ?? '–'}
          {o.defective ? ` (${t('dashboard.state.defective')})` : ''}
        </dd>
        <dt>{t('dashboard.pickup.created')}</dt>
        <dd>{time(pickup.createdAt)}</dd>
        <dt>{t('dashboard.pickup.deadline')}</dt>
        <dd data-deadline={pickup.deadline ?? ''}>{time(pickup.deadline)}</dd>
      </dl>

      <section aria-labelledby="h-person">
        <h2 id="h-person">{t('dashboard.pickup.person')}</h2>
        {o.revealed !== undefined ? (
          <>
            <p class="note" role="status">
              {t('dashboard.pickup.revealed')}
            </p>
            <dl class="facts" data-revealed>
              <dt>{t('dashboard.pickup.name')}</dt>
              <dd>
                {o.revealed.givenNames} {o.revealed.familyName}
              </dd>
              <dt>{t('dashboard.pickup.mobile')}</dt>
              <dd>{o.revealed.mobile}</dd>
              <dt>{t('dashboard.pickup.dateOfBirth')}</dt>
              <dd>{o.revealed.dateOfBirth}</dd>
            </dl>
          </>
        ) : person === null ? (
          <p>{t('dashboard.pickup.personGone')}</p>
        ) : (
          <>
            <dl class="facts" data-masked>
              <dt>{t('dashboard.pickup.name')}</dt>
              <dd>{person.name}</dd>
              <dt>{t('dashboard.pickup.mobile')}</dt>
              <dd>{person.mobile}</dd>
              <dt>{t('dashboard.pickup.yearOfBirth')}</dt>
              <dd>{person.dateOfBirth}</dd>
            </dl>
            <p>{t('dashboard.pickup.masked')}</p>
            <ActionForm t={t} id="reveal" action={`${base}/reveal${q}`} csrf={csrf} legend={t('dashboard.action.reveal')} submit={t('dashboard.action.reveal')} />
          </>
        )}
      </section>

      <section aria-labelledby="h-actions">
        <h2 id="h-actions">{t('dashboard.action.title')}</h2>
        <div class="actions">
          {newCode ? (
            <ActionForm t={t} id="code" action={`${base}/code${q}`} csrf={csrf} legend={t('dashboard.action.code')} submit={t('dashboard.action.code')}>
              <p class="hint">{t('dashboard.action.codeCount', { current: o.codeGeneration, total: o.maxCodes })}</p>
            </ActionForm>
          ) : null}
          {reassign ? (
            <ActionForm t={t} id="reassign" action={`${base}/reassign${q}`} csrf={csrf} legend={t('dashboard.action.reassign')} submit={t('dashboard.action.reassign')}>
              <p class="hint">{t('dashboard.action.reassignHint', { compartment: fault?.compartment ?? '–' })}</p>
            </ActionForm>
          ) : null}
          {pickup.state === 'notified' ? (
            <ActionForm t={t} id="extend" action={`${base}/deadline${q}`} csrf={csrf} legend={t('dashboard.action.extend')} submit={t('dashboard.action.extend')}>
              <label for="workingDays">{t('dashboard.action.workingDays', { total: o.maxWorkingDays })}</label>
              <input id="workingDays" name="workingDays" type="number" min={1} max={o.maxWorkingDays} step={1} value="3" required />
            </ActionForm>
          ) : null}
          {ended ? null : <ActionForm t={t} id="cancel" action={`${base}/cancel${q}`} csrf={csrf} legend={t('dashboard.action.cancel')} submit={t('dashboard.action.cancel')} />}
          {pickup.compartment === null ? null : (
            <>
              <ActionForm
                t={t}
                id="open"
                action={`${base}/open${q}`}
                csrf={csrf}
                legend={t('dashboard.action.open', { compartment: pickup.compartment })}
                submit={t('dashboard.action.open', { compartment: pickup.compartment })}
              >
                {o.lockerConnected ? null : <p class="hint">{t('dashboard.action.noLocker')}</p>}
              </ActionForm>
              {o.defective ? (
                <ActionForm
                  t={t}
                  id="repaired"
                  action={`${base}/repaired${q}`}
                  csrf={csrf}
                  legend={t('dashboard.action.repaired', { compartment: pickup.compartment })}
                  submit={t('dashboard.action.repaired', { compartment: pickup.compartment })}
                />
              ) : (
                <ActionForm
                  t={t}
                  id="defective"
                  action={`${base}/defective${q}`}
                  csrf={csrf}
                  legend={t('dashboard.action.defective', { compartment: pickup.compartment })}
                  submit={t('dashboard.action.defective', { compartment: pickup.compartment })}
                />
              )}
            </>
          )}
          {!dead ? null : o.person.role === 'admin' ? (
            <ActionForm t={t} id="replay" action={`${base}/replay${q}`} csrf={csrf} legend={t('dashboard.action.replay')} submit={t('dashboard.action.replay')} />
          ) : (
            <p class="hint">{t('dashboard.action.replayAdmin')}</p>
          )}
        </div>
      </section>

      <section aria-labelledby="h-timeline">
        <h2 id="h-timeline">{t('dashboard.pickup.timeline')}</h2>
        <table class="data" data-timeline>
          <thead>
            <tr>
              <th scope="col">{t('dashboard.pickup.time')}</th>
              <th scope="col">{t('dashboard.pickup.event')}</th>
              <th scope="col">{t('dashboard.pickup.fromTo')}</th>
              <th scope="col">{t('dashboard.pickup.reason')}</th>
              <th scope="col">{t('dashboard.pickup.actor')}</th>
            </tr>
          </thead>
          <tbody>
            {timeline.map((e) => (
              <tr data-seq={e.seq}>
                <td>
                  <time datetime={e.at}>{time(e.at)}</time>
                </td>
                <td>
                  <code>{e.type}</code>
                </td>
                <td>{e.from === e.to ? stateName(t, e.to) : `${stateName(t, e.from)} → ${stateName(t, e.to)}`}</td>
                <td>
                  <code>{e.reason}</code>
                </td>
                <td>{e.actor}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section aria-labelledby="h-sms">
        <h2 id="h-sms">{t('dashboard.pickup.sms')}</h2>
        {sms.length === 0 ? (
          <p>{t('dashboard.pickup.smsNone')}</p>
        ) : (
          <table class="data" data-sms>
            <thead>
              <tr>
                <th scope="col">{t('dashboard.pickup.time')}</th>
                <th scope="col">{t('dashboard.pickup.smsKind')}</th>
                <th scope="col">{t('dashboard.pickup.smsStatus')}</th>
              </tr>
            </thead>
            <tbody>
              {sms.map((s) => (
                <tr>
                  <td>
                    <time datetime={s.at}>{time(s.at)}</time>
                  </td>
                  <td>
                    <code>{s.kind}</code>
                  </td>
                  <td>
                    <code>{s.status}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="h-reports">
        <h2 id="h-reports">{t('dashboard.pickup.reports')}</h2>
        {reports.length === 0 ? (
          <p>{t('dashboard.pickup.reportsNone')}</p>
        ) : (
          <table class="data" data-reports>
            <thead>
              <tr>
                <th scope="col">{t('dashboard.pickup.time')}</th>
                <th scope="col">{t('dashboard.pickup.stateLabel')}</th>
                <th scope="col">{t('dashboard.pickup.reason')}</th>
                <th scope="col">{t('dashboard.pickup.delivery')}</th>
              </tr>
            </thead>
            <tbody>
              {reports.map((r) => (
                <tr data-delivery={r.delivery}>
                  <td>
                    <time datetime={r.occurredAt}>{time(r.occurredAt)}</time>
                  </td>
                  <td>{reportStatusName(t, r.status)}</td>
                  <td>
                    <code>{r.reason}</code>
                  </td>
                  <td>
                    {t(`dashboard.pickup.delivery.${r.delivery}`)}
                    {r.error === undefined ? null : (
                      <span class="error" lang="en">
                        {' '}
                        ({r.error})
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="h-audit">
        <h2 id="h-audit">{t('dashboard.pickup.audit')}</h2>
        {o.audit.length === 0 ? (
          <p>{t('dashboard.pickup.auditNone')}</p>
        ) : (
          <table class="data" data-audit>
            <thead>
              <tr>
                <th scope="col">{t('dashboard.pickup.time')}</th>
                <th scope="col">{t('dashboard.pickup.action')}</th>
                <th scope="col">{t('dashboard.pickup.actor')}</th>
                <th scope="col">{t('dashboard.pickup.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {o.audit.map((a) => (
                <tr data-action={a.action}>
                  <td>
                    <time datetime={a.at}>{time(a.at)}</time>
                  </td>
                  <td>
                    <code>{a.action}</code>
                    {a.detail === undefined ? null : <span class="detail"> {a.detail}</span>}
                  </td>
                  <td>{a.actor}</td>
                  <td>{a.reason ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </Layout>,
  );
}

/** A refusal of the pickup pages as a page (another authority's pickup: 404). */
export function pickupProblemPage(o: PageBase & { status: number; code: string }): string {
  const t = translator(o);
  const key = o.status === 404 ? 'dashboard.pickup.notFound' : 'dashboard.action.refused';
  return documentOf(
    <Layout {...o} title={t('dashboard.problem.title')} path="/dashboard/pickups">
      <h1>{t('dashboard.problem.title')}</h1>
      <p class="alert" role="alert">
        {t(key)}
      </p>
      <p>
        <a href={`/dashboard/pickups?lang=${o.language}`}>{t('dashboard.search.title')}</a>
      </p>
      <p class="code">{o.code}</p>
    </Layout>,
  );
}
