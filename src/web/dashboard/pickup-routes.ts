/**
 * The dashboard's pickup pages: find a pickup by case number or document
 * number, read its story (timeline, SMS, reports to the case system, the
 * audit trail, personal data masked) and act on it. Every action is a plain
 * form (POST with the session's CSRF token, checked by requirePerson) with
 * a reason of 5 to 200 characters, answered 303 back to the pickup's page
 * with a confirmation; every action leaves an audit entry naming the person
 * (`clerk:{username}` or `admin:{username}`). Replaying a dead-letter report
 * is an admin's action. Another authority's pickup does not exist here (404).
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { PersonRole } from '../../accounts/accounts.js';
import type { BoxDefinition } from '../../core/box.js';
import { DokuboxError } from '../../core/errors.js';
import type { BoxLifecycle } from '../../lifecycle/box-lifecycle.js';
import { MAX_EXTENSION_WORKING_DAYS, MAX_NEW_CODES, type PickupService } from '../../service/pickup-service.js';
import type { ClientIdentity, PickupSearch, RevealedPerson } from '../../service/types.js';
import type { PickupStore } from '../../store/pickup-store.js';
import type { Asset } from '../assets.js';
import type { Catalogues } from '../i18n.js';
import type { DashboardEnv } from './auth.js';
import { DONE_KINDS, pickupPage, pickupProblemPage, searchPage, type DoneKind, type PickupPageData } from './pickup-pages.js';

/** Dead letters of the case-system reports (CaseSystemReportQueue). */
export interface DeadLetterQueue {
  listDeadLetters(): Promise<{ pickupId: string; report: { seq: number; status: string; authority: string; boxId: string } }[]>;
  replayDeadLetter(pickupId: string): Promise<boolean>;
}

export interface DashboardPickupDeps {
  service: PickupService;
  store: PickupStore;
  boxes: ReadonlyMap<string, BoxDefinition>;
  lifecycles: ReadonlyMap<string, BoxLifecycle>;
  reports: DeadLetterQueue;
  catalogues: Catalogues;
  /** dashboard.css (shared with the box pages) and pickups.css (served here). */
  assets: { css: Asset; pickupsCss: Asset };
  requirePerson(...roles: PersonRole[]): MiddlewareHandler<DashboardEnv>;
}

const REASON_MIN = 5;
const REASON_MAX = 200;

type Ctx = Context<DashboardEnv>;

export function dashboardPickupRoutes(d: DashboardPickupDeps): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();
  const clerk = d.requirePerson('clerk');
  const admin = d.requirePerson('admin');
  const css = [d.assets.css.url, d.assets.pickupsCss.url];

  app.use('/pickups/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });
  app.use('/pickups', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  // Its own style sheet (content-hashed URL); mounted before the box routes, whose asset route answers 404 for others.
  app.get(d.assets.pickupsCss.url.replace(/^\/dashboard/, ''), (c) =>
    c.body(d.assets.pickupsCss.body, 200, { 'content-type': d.assets.pickupsCss.type, 'cache-control': 'public, max-age=31536000, immutable' }),
  );

  /** `?lang=` when the catalogues have it, else the first of de/en the browser asks for, else German. */
  const languageOf = (c: Ctx): string => {
    const asked = c.req.query('lang');
    if (asked !== undefined && d.catalogues.has(asked)) return asked;
    const first = /(?:^|,)\s*(de|en)\b/.exec((c.req.header('accept-language') ?? '').toLowerCase());
    return first?.[1] ?? 'de';
  };
  const clientOf = (c: Ctx): ClientIdentity => {
    const client = c.get('client');
    if (client === undefined) throw new DokuboxError('UNAUTHENTICATED', 'Sign in to the dashboard first.');
    return client;
  };
  /** The audit actor: the person, by role and username. */
  const actorOf = (c: Ctx): string => {
    const person = c.get('person');
    return `${person.role === 'admin' ? 'admin' : 'clerk'}:${person.username}`;
  };
  const base = (c: Ctx) => ({ catalogues: d.catalogues, language: languageOf(c), css, person: c.get('person') });

  app.onError((error, c) => {
    const err = error instanceof DokuboxError ? error : undefined;
    if (err === undefined) throw error;
    const person = c.get('person') as DashboardEnv['Variables']['person'] | undefined;
    if (person === undefined) throw error;
    return c.html(pickupProblemPage({ ...base(c), status: err.status, code: err.code }), err.status as 404);
  });

  // Search.
  app.get('/pickups', clerk, async (c) => {
    const caseNumber = (c.req.query('caseNumber') ?? '').trim();
    const documentNumber = (c.req.query('documentNumber') ?? '').trim();
    const page = { ...base(c), caseNumber, documentNumber };
    if (caseNumber === '' && documentNumber === '') return c.html(searchPage(page));
    if (caseNumber !== '' && documentNumber !== '') return c.html(searchPage({ ...page, problem: 'dashboard.search.oneField' }), 400);
    if (caseNumber.length > 64 || documentNumber.length > 32) return c.html(searchPage({ ...page, problem: 'dashboard.search.tooLong' }), 400);
    const query: PickupSearch = caseNumber !== '' ? { caseNumber } : { documentNumber };
    const found = await d.service.findPickups(clientOf(c), query);
    const results = found.map((p) => ({ ...p, boxName: d.boxes.get(p.boxId)?.name ?? p.boxId, timeZone: d.boxes.get(p.boxId)?.timeZone ?? 'Europe/Berlin' }));
    return c.html(searchPage({ ...page, results }));
  });

  /** Everything the pickup's page shows (404 for another authority's pickup). */
  const pageData = async (c: Ctx, pickupId: string): Promise<PickupPageData> => {
    const client = clientOf(c);
    const story = await d.service.pickupStory(client, pickupId);
    const box = d.boxes.get(story.pickup.boxId);
    if (box === undefined) throw new DokuboxError('NOT_FOUND', 'The box of this pickup is no longer configured.');
    const compartment = story.pickup.compartment;
    const [audit, codeGeneration, defective] = await Promise.all([
      d.service.auditTrail(client, { pickupId: story.pickup.id, limit: 200 }),
      d.store.codeGeneration(story.pickup.id),
      compartment === null ? Promise.resolve(false) : d.service.isDefective(box.id, compartment),
    ]);
    return { story, audit, box, codeGeneration, maxCodes: MAX_NEW_CODES, maxWorkingDays: MAX_EXTENSION_WORKING_DAYS, lockerConnected: d.lifecycles.has(box.id), defective };
  };

  const detail = (c: Ctx, data: PickupPageData, extra: { done?: DoneKind; problem?: { key: string; detail?: string }; revealed?: RevealedPerson } = {}) =>
    pickupPage({ ...base(c), ...data, ...extra });

  app.get('/pickups/:pickupId', clerk, async (c) => {
    const data = await pageData(c, c.req.param('pickupId'));
    const done = c.req.query('done');
    const kind = DONE_KINDS.find((k) => k === done);
    return c.html(detail(c, data, kind === undefined ? {} : { done: kind }));
  });

  /** The form's fields (requirePerson parsed the body already; Hono caches it). */
  const formOf = async (c: Ctx): Promise<Record<string, string>> => {
    const body = await c.req.parseBody();
    return Object.fromEntries(Object.entries(body).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
  };
  const reasonOf = (form: Record<string, string>): string => {
    const reason = (form.reason ?? '').trim();
    if (reason.length < REASON_MIN || reason.length > REASON_MAX) throw new DokuboxError('VALIDATION_FAILED', `Give a reason of ${REASON_MIN} to ${REASON_MAX} characters.`, { field: 'reason' });
    return reason;
  };

  /** Which message a refused action shows (the service's own message is added as the detail). */
  const problemOf = (error: DokuboxError): { key: string; detail?: string } => {
    if (error.code === 'VALIDATION_FAILED' && error.field === 'reason') return { key: 'dashboard.action.reasonInvalid' };
    if (error.code === 'VALIDATION_FAILED' && error.field === 'workingDays') return { key: 'dashboard.action.daysInvalid' };
    if (error.code === 'CODE_LIMIT_REACHED') return { key: 'dashboard.action.codeLimit' };
    if (error.code === 'COMPARTMENT_UNAVAILABLE' && error.field === 'locker') return { key: 'dashboard.action.noLocker' };
    return { key: 'dashboard.action.refused', detail: error.message };
  };

  /**
   * A POST action on a pickup of the person's authority: runs `act`, then 303
   * back to the pickup's page with `?done=`; a refusal shows the page again
   * with the message (and the status of the error).
   */
  const action = (done: DoneKind, act: (c: Ctx, form: Record<string, string>, pickupId: string) => Promise<void>) => async (c: Ctx) => {
    const pickupId = c.req.param('pickupId') ?? '';
    // Another authority's pickup: 404 before anything is read from the form.
    await d.service.getPickup(clientOf(c), { pickupId });
    const form = await formOf(c);
    try {
      await act(c, form, pickupId);
    } catch (error) {
      if (!(error instanceof DokuboxError) || error.code === 'NOT_FOUND') throw error;
      return c.html(detail(c, await pageData(c, pickupId), { problem: problemOf(error) }), error.status as 400);
    }
    return c.redirect(`/dashboard/pickups/${encodeURIComponent(pickupId)}?lang=${languageOf(c)}&done=${done}`, 303);
  };

  /** The pickup's compartment at its box (or a refusal when it has none). */
  const compartmentOf = async (c: Ctx, pickupId: string): Promise<{ box: BoxDefinition; compartment: string }> => {
    const pickup = await d.service.getPickup(clientOf(c), { pickupId });
    const box = d.service.box(clientOf(c), pickup.boxId);
    if (pickup.compartment === null) throw new DokuboxError('ILLEGAL_TRANSITION', `This pickup is '${pickup.state}' and has no compartment.`);
    return { box, compartment: pickup.compartment };
  };

  // Reveal: the full personal data in this response only (never cached), audited in the same atomic step.
  app.post('/pickups/:pickupId/reveal', clerk, async (c) => {
    const pickupId = c.req.param('pickupId');
    const client = clientOf(c);
    await d.service.getPickup(client, { pickupId });
    const form = await formOf(c);
    try {
      const revealed = await d.service.revealPersonalData(client, pickupId, reasonOf(form), actorOf(c));
      c.header('Cache-Control', 'no-store');
      return c.html(detail(c, await pageData(c, pickupId), { revealed }));
    } catch (error) {
      if (!(error instanceof DokuboxError) || error.code === 'NOT_FOUND') throw error;
      return c.html(detail(c, await pageData(c, pickupId), { problem: problemOf(error) }), error.status as 400);
    }
  });

  app.post(
    '/pickups/:pickupId/code',
    clerk,
    action('code', async (c, form, pickupId) => {
      const reason = reasonOf(form);
      await d.service.issueNewCode(clientOf(c), { pickupId }, actorOf(c), reason);
    }),
  );

  app.post(
    '/pickups/:pickupId/reassign',
    clerk,
    action('reassigned', async (c, form, pickupId) => {
      const reason = reasonOf(form);
      await d.service.reassignAfterFault(clientOf(c), { pickupId }, actorOf(c), reason);
    }),
  );

  app.post(
    '/pickups/:pickupId/deadline',
    clerk,
    action('extended', async (c, form, pickupId) => {
      const reason = reasonOf(form);
      const workingDays = /^\d{1,2}$/.test((form.workingDays ?? '').trim()) ? Number(form.workingDays) : NaN;
      await d.service.extendDeadline(clientOf(c), pickupId, workingDays, reason, actorOf(c));
    }),
  );

  app.post(
    '/pickups/:pickupId/cancel',
    clerk,
    action('cancelled', async (c, form, pickupId) => {
      const reason = reasonOf(form);
      await d.service.cancelPickup(clientOf(c), { pickupId }, 'cancelled_by_staff', actorOf(c), reason);
    }),
  );

  app.post(
    '/pickups/:pickupId/open',
    clerk,
    action('opened', async (c, form, pickupId) => {
      const reason = reasonOf(form);
      const { box, compartment } = await compartmentOf(c, pickupId);
      const lifecycle = d.lifecycles.get(box.id);
      if (lifecycle === undefined) throw new DokuboxError('COMPARTMENT_UNAVAILABLE', 'This box has no connected locker.', { field: 'locker' });
      const occupant = await d.store.occupantOf(box.id, compartment);
      await lifecycle.openForRetrieval(clientOf(c), compartment, occupant?.pickupId ?? null, reason, actorOf(c));
    }),
  );

  for (const kind of ['defective', 'repaired'] as const) {
    app.post(
      `/pickups/:pickupId/${kind}`,
      clerk,
      action(kind, async (c, form, pickupId) => {
        const reason = reasonOf(form);
        const client = clientOf(c);
        const { box, compartment } = await compartmentOf(c, pickupId);
        await d.service.compartmentAction(client, box.id, compartment, kind);
        await d.service.audit(
          { actor: actorOf(c), authority: client.authority, action: kind === 'defective' ? 'compartment_defective' : 'compartment_repaired', pickupId, boxId: box.id, compartment, reason },
          'if_exists',
        );
        // Keep the locker's own view in step: a defective door refuses to open until repaired.
        await d.lifecycles.get(box.id)?.adapter.setEnabled(compartment, kind === 'repaired');
      }),
    );
  }

  // Replaying a dead-letter report is an admin's action (a clerk gets the 403 page from requirePerson).
  app.post(
    '/pickups/:pickupId/replay',
    admin,
    action('replayed', async (c, form, pickupId) => {
      const reason = reasonOf(form);
      const client = clientOf(c);
      const dead = (await d.reports.listDeadLetters()).find((x) => x.pickupId === pickupId && x.report.authority === client.authority);
      if (dead === undefined) throw new DokuboxError('ILLEGAL_TRANSITION', 'This pickup has no dead-letter report to replay.');
      await d.reports.replayDeadLetter(pickupId);
      await d.service.audit({ actor: actorOf(c), authority: client.authority, action: 'case_report_replayed', pickupId, boxId: dead.report.boxId, reason, detail: `report seq ${dead.report.seq} (${dead.report.status})` }, 'if_exists');
    }),
  );

  return app;
}
