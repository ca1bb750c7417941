/**
 * The box's touchscreen, rendered on the server with Hono's JSX: every
 * screen of the box's policy is in the page from the start (hidden until its
 * turn), in the chosen language and direction, so the browser script only
 * switches screens, collects the entries and talks to /kiosk/api. Nothing
 * personal is ever rendered: the page holds what the applicant types, until
 * the end or the inactivity reset.
 */
import type { Child, FC } from 'hono/jsx';
import type { BoxDefinition } from '../../core/box.js';
import type { PolicyStep } from '../../core/pickup-policy.js';
import type { Catalogues } from '../i18n.js';

export interface PageAssets {
  css: string;
  js: string;
}

export type KioskStatus = { state: 'ready' } | { state: 'closed'; nextOpening: number | undefined } | { state: 'offline' } | { state: 'paused'; until: number };

type T = (key: string, values?: Record<string, string | number | Date>) => string;

export function translator(catalogues: Catalogues, language: string, box: Pick<BoxDefinition, 'timeZone'>): T {
  return (key, values = {}) => catalogues.t(language, key, values, box.timeZone);
}

const ICONS: Record<string, string> = {
  phone: 'M7 2h10a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm0 3v13h10V5zm4 14.5a1 1 0 1 0 2 0 1 1 0 0 0-2 0z',
  code: 'M4 4h4v4H4zm6 0h4v4h-4zm6 0h4v4h-4zM4 10h4v4H4zm6 0h4v4h-4zm6 0h4v4h-4zM10 16h4v4h-4z',
  letter: 'M3 5h18a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm1 2.2V17h16V7.2l-8 5.3zM5.2 7 12 11.5 18.8 7z',
  card: 'M3 5h18a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H3a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2zm0 2v10h18V7zm2 2h6v2H5zm0 4h9v2H5zm11-4h3v4h-3z',
  calendar: 'M6 2h2v2h8V2h2v2h2a1 1 0 0 1 1 1v16a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1h2zM5 9v11h14V9zm2 2h3v3H7z',
  door: 'M5 2h14v20H5zm2 2v16h10V4zm7 7h2v2h-2z',
  check: 'M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z',
  warning: 'M1 21h22L12 2zm12-3h-2v-2h2zm0-4h-2v-4h2z',
  clock: 'M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20zm0 2a8 8 0 1 0 0 16 8 8 0 0 0 0-16zm-1 3h2v5.4l4 2.4-1 1.7-5-3z',
  wheelchair: 'M12 2a2 2 0 1 1 0 4 2 2 0 0 1 0-4zm-1 5h2v5h5v2h-6zm-3 3.3v2.2A4.5 4.5 0 1 0 14.6 18h2.1A6.5 6.5 0 1 1 8 10.3zM18 14h2l1.5 5-1.9.6z',
  globe: 'M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20zm-1.9 2.2A8 8 0 0 0 4.1 11h3.5a15 15 0 0 1 2.5-6.8zm3.8 0A15 15 0 0 1 16.4 11h3.5a8 8 0 0 0-6-6.8zM12 4.5A13 13 0 0 0 9.6 11h4.8A13 13 0 0 0 12 4.5zM4.1 13a8 8 0 0 0 6 6.8A15 15 0 0 1 7.6 13zm5.5 0a13 13 0 0 0 2.4 6.5 13 13 0 0 0 2.4-6.5zm6.8 0a15 15 0 0 1-2.5 6.8 8 8 0 0 0 6-6.8z',
  person: 'M12 2a5 5 0 1 1 0 10 5 5 0 0 1 0-10zm0 12c5 0 9 2.2 9 5v3H3v-3c0-2.8 4-5 9-5z',
};

export const Icon: FC<{ name: keyof typeof ICONS }> = ({ name }) => (
  <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
    <path d={ICONS[name] ?? ''} fill="currentColor" />
  </svg>
);

const Layout: FC<{ title: string; lang: string; dir: string; assets: PageAssets; header: Child; footer?: Child; bodyData?: string; children?: Child }> = (p) => (
  <html lang={p.lang} dir={p.dir}>
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{p.title}</title>
      <link rel="stylesheet" href={p.assets.css} />
      <script type="module" src={p.assets.js} />
    </head>
    <body data-kiosk={p.bodyData}>
      {p.header}
      <main id="main">{p.children}</main>
      {p.footer}
    </body>
  </html>
);

export function documentOf(element: unknown): string {
  return `<!doctype html>${String(element)}`;
}

const Header: FC<{ t: T; box: BoxDefinition; staffHref?: string }> = ({ t, box, staffHref }) => (
  <header class="bar">
    <h1>{t('app.title')}</h1>
    <span class="box-name">{t('app.box', { name: box.name })}</span>
    {staffHref === undefined ? null : (
      <nav class="corner" aria-label={t('staff.link')}>
        <a class="button" href={staffHref}>
          <Icon name="person" />
          {t('staff.link')}
        </a>
      </nav>
    )}
  </header>
);

const Footer: FC<{ t: T; lowToggle?: boolean }> = ({ t, lowToggle = true }) => (
  <footer class="bar">
    <a class="button secondary" href="/kiosk" lang="de" data-action="languages">
      <Icon name="globe" />
      <span>Sprache · Language · اللغة</span>
    </a>
    {lowToggle ? (
      <button type="button" class="secondary" id="low-layout" aria-pressed="false">
        <Icon name="wheelchair" />
        {t('layout.low')}
      </button>
    ) : null}
  </footer>
);

/** The first screen: the language, in every language. */
export function languagePage(o: { catalogues: Catalogues; box: BoxDefinition; assets: PageAssets; status: KioskStatus }): string {
  const t = translator(o.catalogues, 'de', o.box);
  const en = translator(o.catalogues, 'en', o.box);
  return documentOf(
    <Layout title={t('app.title')} lang="de" dir="ltr" assets={o.assets} header={<Header t={t} box={o.box} staffHref="/kiosk/de/staff" />} footer={<Footer t={t} />} bodyData={JSON.stringify({ page: 'languages', idle: o.box.kioskIdleSeconds })}>
      <section aria-labelledby="h-lang">
        <h2 id="h-lang">
          <Icon name="globe" />
          <span>{t('lang.choose')}</span>
          <span lang="en">{en('lang.choose')}</span>
        </h2>
        {o.status.state === 'ready' ? null : (
          <p class="alert" role="status">
            {statusLine(t, o.status)} <span lang="en">{statusLine(en, o.status)}</span>
          </p>
        )}
        <nav class="languages" aria-labelledby="h-lang">
          {o.catalogues.languages().map((c) => (
            <a class="button" href={`/kiosk/${c.language}`} lang={c.language} dir={c.direction} hreflang={c.language}>
              {c.name}
            </a>
          ))}
        </nav>
      </section>
    </Layout>,
  );
}

function statusLine(t: T, status: KioskStatus): string {
  if (status.state === 'closed') return `${t('closed.title')}. ${status.nextOpening === undefined ? '' : t('closed.next', { when: new Date(status.nextOpening) })}`;
  if (status.state === 'offline') return t('offline.title');
  if (status.state === 'paused') return t('paused.title');
  return '';
}

/** The screens a policy step shows, in order (dateOfBirthOrCan asks about an old card, then one of two). */
export function screensOf(steps: readonly PolicyStep[]): string[] {
  return steps.flatMap((s) => (s === 'dateOfBirthOrCan' ? ['oldCard', 'dateOfBirthOrCan'] : [s]));
}

const Keypad: FC<{ t: T; target: string; unknown?: boolean }> = ({ t, target, unknown }) => (
  <div class="keypad" role="group" aria-label={t('keypad.label')} data-keypad={target}>
    {['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => (
      <button type="button" data-key={d} tabindex={-1}>
        {d}
      </button>
    ))}
    {unknown ? (
      <button type="button" data-key="X" tabindex={-1} aria-label={t('keypad.unknown')}>
        X
      </button>
    ) : (
      <span />
    )}
    <button type="button" data-key="0" tabindex={-1}>
      0
    </button>
    <button type="button" data-key="delete" tabindex={-1} aria-label={t('keypad.delete')}>
      ⌫
    </button>
  </div>
);

const InputStep: FC<{ t: T; id: string; icon: keyof typeof ICONS; progress: string; kind: string; inputMode: 'numeric' | 'tel'; maxLength: number; unknown?: boolean; last: boolean; hidden: boolean; placeholder?: string }> = (p) => (
  <section data-screen={`step-${p.id}`} hidden={p.hidden} aria-labelledby={`h-${p.id}`}>
    <p class="progress">{p.progress}</p>
    <h2 id={`h-${p.id}`} tabindex={-1}>
      <Icon name={p.icon} />
      {p.t(`step.${p.id}.title`)}
    </h2>
    <p class="help" id={`help-${p.id}`}>
      {p.t(`step.${p.id}.help`)}
    </p>
    <label for={`in-${p.id}`}>{p.t(`step.${p.id}.label`)}</label>
    <input
      id={`in-${p.id}`}
      name={p.id}
      type="text"
      inputmode={p.inputMode}
      autocomplete="off"
      spellcheck={false}
      maxlength={p.maxLength}
      data-kind={p.kind}
      aria-describedby={`help-${p.id} err-${p.id}`}
      placeholder={p.placeholder}
    />
    <p class="alert" id={`err-${p.id}`} role="alert" hidden>
      {p.t(`step.invalid.${p.id}`)}
    </p>
    <Keypad t={p.t} target={`in-${p.id}`} unknown={p.unknown ?? false} />
    <div class="actions">
      <button type="button" class="secondary" data-action="back">
        {p.t('nav.back')}
      </button>
      <button type="button" data-action="next">
        {p.last ? p.t('verify.submit') : p.t('nav.next')}
      </button>
    </div>
  </section>
);

const ChoiceStep: FC<{ t: T; id: string; icon: keyof typeof ICONS; progress: string; hidden: boolean }> = (p) => (
  <section data-screen={`step-${p.id}`} hidden={p.hidden} aria-labelledby={`h-${p.id}`}>
    <p class="progress">{p.progress}</p>
    <h2 id={`h-${p.id}`} tabindex={-1}>
      <Icon name={p.icon} />
      {p.t(`step.${p.id}.title`)}
    </h2>
    <p class="help">{p.t(`step.${p.id}.help`)}</p>
    <div class="choices">
      <button type="button" data-action="yes">
        <Icon name="check" />
        {p.t(`step.${p.id}.yes`)}
      </button>
      <button type="button" class="secondary" data-action="no">
        {p.t(`step.${p.id}.no`)}
      </button>
    </div>
    <div class="actions">
      <button type="button" class="secondary" data-action="back">
        {p.t('nav.back')}
      </button>
    </div>
  </section>
);

const Message: FC<{ screen: string; icon: keyof typeof ICONS; title: string; hidden: boolean; children?: Child }> = (p) => (
  <section data-screen={p.screen} hidden={p.hidden} aria-labelledby={`h-${p.screen}`}>
    <h2 id={`h-${p.screen}`} tabindex={-1}>
      <Icon name={p.icon} />
      <span data-title>{p.title}</span>
    </h2>
    {p.children}
  </section>
);

/** A part of staff mode: its heading with a pictogram, then the content. */
const StaffSection: FC<{ id: string; icon: keyof typeof ICONS; title: string; children?: Child }> = (p) => (
  <section aria-labelledby={`h-${p.id}`}>
    <h2 id={`h-${p.id}`}>
      <Icon name={p.icon} />
      {p.title}
    </h2>
    {p.children}
  </section>
);

/** The applicant's pickup in one language: the policy's steps, then the open compartment, then done. */
export function pickupPage(o: { catalogues: Catalogues; language: string; box: BoxDefinition; assets: PageAssets; status: KioskStatus }): string {
  const catalogue = o.catalogues.catalogue(o.language);
  const t = translator(o.catalogues, catalogue.language, o.box);
  const screens = screensOf(o.box.pickup.steps);
  const total = screens.length;
  const first = o.status.state === 'ready' ? `step-${screens[0] === 'dateOfBirthOrCan' ? 'dateOfBirth' : screens[0]}` : o.status.state;
  const progress = (step: string) => t('step.progress', { current: screens.indexOf(step) + 1, total });
  const last = (step: string) => screens.indexOf(step) === total - 1;
  const startButton = (
    <div class="actions">
      <a class="button" href="/kiosk" data-action="start">
        {t('nav.start')}
      </a>
    </div>
  );
  const sections: Child[] = [];
  for (const step of screens) {
    if (step === 'mobile') sections.push(<InputStep t={t} id="mobile" icon="phone" progress={progress(step)} kind="phone" inputMode="tel" maxLength={20} last={last(step)} hidden={first !== 'step-mobile'} />);
    if (step === 'code') sections.push(<InputStep t={t} id="code" icon="code" progress={progress(step)} kind="code" inputMode="numeric" maxLength={6} last={last(step)} hidden={first !== 'step-code'} />);
    if (step === 'pinLetter') sections.push(<ChoiceStep t={t} id="pinLetter" icon="letter" progress={progress(step)} hidden={first !== 'step-pinLetter'} />);
    if (step === 'oldCard') sections.push(<ChoiceStep t={t} id="oldCard" icon="card" progress={progress(step)} hidden={first !== 'step-oldCard'} />);
    if (step === 'dateOfBirth' || step === 'dateOfBirthOrCan') {
      sections.push(<InputStep t={t} id="dateOfBirth" icon="calendar" progress={progress(step)} kind="date" inputMode="numeric" maxLength={10} unknown last={last(step)} hidden={first !== 'step-dateOfBirth'} />);
    }
    if (step === 'dateOfBirthOrCan') sections.push(<InputStep t={t} id="can" icon="card" progress={progress(step)} kind="can" inputMode="numeric" maxLength={6} last={last(step)} hidden />);
  }
  const data = { page: 'pickup', lang: catalogue.language, screens, oldDocument: o.box.pickup.oldDocument, idle: o.box.kioskIdleSeconds };
  return documentOf(
    <Layout
      title={t('app.title')}
      lang={catalogue.language}
      dir={catalogue.direction}
      assets={o.assets}
      header={<Header t={t} box={o.box} staffHref={`/kiosk/${catalogue.language}/staff`} />}
      footer={<Footer t={t} />}
      bodyData={JSON.stringify(data)}
    >
      {sections}
      <Message screen="checking" icon="clock" title={t('verify.checking')} hidden />
      <Message screen="failed" icon="warning" title={t('verify.failed.title')} hidden>
        <p class="alert" role="alert" data-text="body">
          {t('verify.failed.body')}
        </p>
        <p data-text="remaining" />
        <p class="status-line" data-text="counter" hidden>
          {t('verify.failed.counter')}
        </p>
        <div class="actions">
          <button type="button" data-action="retry">
            {t('nav.retry')}
          </button>
          <a class="button secondary" href="/kiosk" data-action="start">
            {t('nav.start')}
          </a>
        </div>
      </Message>
      <Message screen="pin-missing" icon="letter" title={t('pinLetter.missing.title')} hidden>
        <p>{t('pinLetter.missing.body')}</p>
        {startButton}
      </Message>
      <Message screen="open" icon="door" title={t('open.title', { compartment: '' })} hidden>
        <p class="compartment-number" data-text="compartment" />
        <div data-front />
        <p class="status-line">{o.box.pickup.oldDocument === 'intoCompartment' ? t('open.intoCompartment') : t('open.take')}</p>
        <p class="help" role="status">
          {t('open.waiting')}
        </p>
      </Message>
      {o.box.pickup.oldDocument === 'returnSlot' || o.box.pickup.oldDocument === 'destructionSlot' ? (
        <Message screen="old-document" icon="card" title={t(`old.${o.box.pickup.oldDocument}.title`)} hidden>
          <p class="status-line">{t(`old.${o.box.pickup.oldDocument}.body`)}</p>
          <div class="actions">
            <button type="button" data-action="done">
              <Icon name="check" />
              {t('old.done')}
            </button>
          </div>
        </Message>
      ) : null}
      <Message screen="done" icon="check" title={t('done.title')} hidden>
        <p>{t('done.body')}</p>
        {startButton}
      </Message>
      <Message screen="fault" icon="warning" title={t('fault.title')} hidden>
        <p class="alert">{t('fault.body')}</p>
        {startButton}
      </Message>
      <Message screen="unconfirmed" icon="door" title={t('unconfirmed.title')} hidden>
        <p class="alert">{t('unconfirmed.body')}</p>
        {startButton}
      </Message>
      <Message screen="closed" icon="clock" title={t('closed.title')} hidden={first !== 'closed'}>
        <p>{t('closed.body')}</p>
        <p class="status-line" data-text="next">
          {o.status.state === 'closed' && o.status.nextOpening !== undefined ? t('closed.next', { when: new Date(o.status.nextOpening) }) : ''}
        </p>
        {startButton}
      </Message>
      <Message screen="offline" icon="warning" title={t('offline.title')} hidden={first !== 'offline'}>
        <p>{t('offline.body')}</p>
        {startButton}
      </Message>
      <Message screen="paused" icon="clock" title={t('paused.title')} hidden={first !== 'paused'}>
        <p class="status-line" data-text="body">
          {o.status.state === 'paused' ? t('paused.body', { until: new Date(o.status.until) }) : ''}
        </p>
        {startButton}
      </Message>
      <Message screen="error" icon="warning" title={t('error.generic')} hidden>
        {startButton}
      </Message>
    </Layout>,
  );
}

export interface EmptyEntry {
  compartment: string;
  reason: 'expired' | 'cancelled' | 'fault' | 'oldDocument';
}

/** Staff mode at the box: sign in, then load, empty, report defective, end a pause. */
export function staffPage(o: {
  catalogues: Catalogues;
  language: string;
  box: BoxDefinition;
  assets: PageAssets;
  staff: { name: string } | undefined;
  toEmpty: EmptyEntry[];
  pausedUntil: number | undefined;
}): string {
  const catalogue = o.catalogues.catalogue(o.language);
  const t = translator(o.catalogues, catalogue.language, o.box);
  const data = { page: 'staff', lang: catalogue.language, idle: Math.max(o.box.kioskIdleSeconds, 120), signedIn: o.staff !== undefined };
  const body =
    o.staff === undefined ? (
      <StaffSection id="signin" icon="person" title={t('staff.signin.title')}>
        <form data-form="signin" method="post" action={`/kiosk/${catalogue.language}/staff/sign-in`}>
          <label for="staff-number">{t('staff.signin.number')}</label>
          <input id="staff-number" name="staffNumber" type="text" autocomplete="off" spellcheck={false} maxlength={32} required />
          <label for="staff-pin">{t('staff.signin.pin')}</label>
          <input id="staff-pin" name="pin" type="password" inputmode="numeric" autocomplete="off" maxlength={8} required />
          <p class="alert" role="alert" data-text="signin" hidden />
          <div class="actions">
            <a class="button secondary" href="/kiosk">
              {t('nav.cancel')}
            </a>
            <button type="submit">{t('staff.signin.submit')}</button>
          </div>
        </form>
      </StaffSection>
    ) : (
      <>
        <StaffSection id="menu" icon="person" title={t('staff.menu.title')}>
          <p>{t('staff.menu.signedIn', { name: o.staff.name })}</p>
          <p class="notice" role="status" aria-live="polite" data-text="result" hidden />
        </StaffSection>
        <StaffSection id="load" icon="door" title={t('staff.load.title')}>
          <form data-form="load">
            <label for="load-serial">{t('staff.load.label')}</label>
            <input id="load-serial" name="serialNumber" type="text" autocomplete="off" spellcheck={false} maxlength={32} required />
            <div class="actions">
              <button type="submit">{t('staff.load.submit')}</button>
            </div>
          </form>
        </StaffSection>
        <StaffSection id="empty" icon="card" title={t('staff.empty.title')}>
          <p>{o.toEmpty.length === 0 ? t('staff.empty.none') : t('staff.empty.count', { count: o.toEmpty.length })}</p>
          <ul class="plain">
            {o.toEmpty.map((e) => (
              <li data-compartment={e.compartment}>
                <span>
                  <strong>{e.compartment}</strong> · {t(`staff.empty.reason.${e.reason}`)}
                </span>
                <button type="button" data-action="empty-open" data-compartment={e.compartment}>
                  {t('staff.empty.open', { compartment: e.compartment })}
                </button>
                <button type="button" class="secondary" data-action="empty-confirm" data-compartment={e.compartment} hidden>
                  {t('staff.empty.confirm', { compartment: e.compartment })}
                </button>
              </li>
            ))}
          </ul>
        </StaffSection>
        <StaffSection id="defective" icon="warning" title={t('staff.defective.title')}>
          <form data-form="defective">
            <label for="defective-compartment">{t('staff.defective.label')}</label>
            <input id="defective-compartment" name="compartment" type="text" autocomplete="off" spellcheck={false} maxlength={16} required />
            <div class="actions">
              <button type="submit">{t('staff.defective.submit')}</button>
            </div>
          </form>
        </StaffSection>
        {o.pausedUntil === undefined ? null : (
          <StaffSection id="release" icon="clock" title={t('staff.release.title')}>
            <p>{t('staff.release.paused', { until: new Date(o.pausedUntil) })}</p>
            <div class="actions">
              <button type="button" data-action="release">
                {t('staff.release.submit')}
              </button>
            </div>
          </StaffSection>
        )}
        <div class="actions">
          <button type="button" class="secondary" data-action="signout">
            {t('staff.signout')}
          </button>
        </div>
      </>
    );
  return documentOf(
    <Layout title={t('staff.menu.title')} lang={catalogue.language} dir={catalogue.direction} assets={o.assets} header={<Header t={t} box={o.box} />} footer={<Footer t={t} lowToggle={false} />} bodyData={JSON.stringify(data)}>
      {body}
    </Layout>,
  );
}

/** Enrolling this browser as the box's kiosk (once, by staff, with a one-time code). */
export function enrollPage(o: { catalogues: Catalogues; assets: PageAssets; failed?: 'failed' | 'tooMany' }): string {
  const t = (key: string) => o.catalogues.t('de', key);
  const en = (key: string) => o.catalogues.t('en', key);
  return documentOf(
    <html lang="de" dir="ltr">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{t('enroll.title')}</title>
        <link rel="stylesheet" href={o.assets.css} />
        <script type="module" src={o.assets.js} />
      </head>
      <body data-kiosk={JSON.stringify({ page: 'enroll', idle: 0 })}>
        <header class="bar">
          <h1>{t('enroll.title')}</h1>
        </header>
        <main id="main">
          <section aria-labelledby="h-enroll">
            <h2 id="h-enroll">
              {t('enroll.title')} · <span lang="en">{en('enroll.title')}</span>
            </h2>
            <p id="enroll-help">
              {t('enroll.help')} <span lang="en">{en('enroll.help')}</span>
            </p>
            {o.failed === undefined ? null : (
              <p class="alert" role="alert">
                {t(`enroll.${o.failed}`)} <span lang="en">{en(`enroll.${o.failed}`)}</span>
              </p>
            )}
            <form method="post" action="/kiosk/enroll">
              <label for="enroll-code">{t('enroll.label')}</label>
              <input id="enroll-code" name="code" type="text" autocomplete="off" spellcheck={false} maxlength={16} required aria-describedby="enroll-help" />
              <div class="actions">
                <button type="submit">{t('enroll.submit')}</button>
              </div>
            </form>
          </section>
        </main>
      </body>
    </html>,
  );
}
