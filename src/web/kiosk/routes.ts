/**
 * The box's touchscreen and staff mode at the box, served under /kiosk by the
 * same Hono app. The kiosk PC is a machine identity: enrolled once by staff
 * with a one-time code, it then holds an httpOnly, SameSite=Strict session
 * cookie that its page cannot read (no API key in the page). Staff sign in
 * at the kiosk with staff number (or badge) and PIN; their session is a
 * second cookie, bound to the device. Every answer for the applicant is
 * formatted here in the chosen language (mappings/i18n).
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BoxDefinition } from '../../core/box.js';
import { frontPosition } from '../../core/box.js';
import type { Clock } from '../../core/clock.js';
import { DokuboxError } from '../../core/errors.js';
import type { BoxLifecycle } from '../../lifecycle/box-lifecycle.js';
import type { PickupService } from '../../service/pickup-service.js';
import type { ClientIdentity } from '../../service/types.js';
import type { AlarmSink } from '../../store/alarms.js';
import type { PickupStore } from '../../store/pickup-store.js';
import type { AppEnv } from '../../http/context.js';
import { respondError, toDokuboxError } from '../../http/errors.js';
import type { Asset } from '../assets.js';
import type { Catalogues } from '../i18n.js';
import { enrollPage, languagePage, pickupPage, staffPage, type EmptyEntry, type KioskStatus } from './pages.js';
import type { AttemptLimiter } from '../../kiosk/attempts.js';
import type { KioskDevice, KioskDevices } from '../../kiosk/devices.js';
import type { StaffAccounts, StaffIdentity } from '../../kiosk/staff-accounts.js';

export const DEVICE_COOKIE = 'dokubox_kiosk';
export const STAFF_COOKIE = 'dokubox_kiosk_staff';
/** Browsers keep a cookie at most 400 days; a kiosk visits its page daily, which renews it. */
const DEVICE_COOKIE_SECONDS = 400 * 86_400;

export interface KioskRouteDeps {
  service: PickupService;
  store: PickupStore;
  boxes: ReadonlyMap<string, BoxDefinition>;
  lifecycles: ReadonlyMap<string, BoxLifecycle>;
  devices: Pick<KioskDevices, 'redeem' | 'identify'>;
  staff: Pick<StaffAccounts, 'verify' | 'startSession' | 'session' | 'endSession'>;
  attempts: Pick<AttemptLimiter, 'status' | 'recordFailure' | 'release'>;
  alarms: AlarmSink;
  /**
   * Wall time: kiosk enrolment, staff sessions, attempt limits and pauses
   * (they hold off real people). Opening hours and holidays come from the
   * service, in domain time (simulated with SIMULATED_TIME).
   */
  wallClock: Clock;
  catalogues: Catalogues;
  assets: { css: Asset; js: Asset };
  /** Set the Secure flag on cookies (behind HTTPS). */
  secureCookies: boolean;
  /** Other origins that may show the kiosk in a frame (the simulator's console); default only the kiosk's own. */
  frameAncestors?: string[];
  logger: Logger;
}

type KioskEnv = AppEnv & { Variables: { device: KioskDevice; box: BoxDefinition } };

const pickupSchema = z.strictObject({
  lang: z.string().max(8).default('de'),
  mobile: z.string().max(32).optional(),
  code: z.string().max(16),
  dateOfBirth: z.string().max(10).optional(),
  can: z.string().max(16).optional(),
  pinLetter: z.boolean().optional(),
});
const signInSchema = z.strictObject({ staffNumber: z.string().trim().min(1).max(32), pin: z.string().max(16) });
const langSchema = z.object({ lang: z.string().max(8).default('de') }).loose();
const loadingSchema = z.strictObject({ serialNumber: z.string().trim().min(1).max(32), lang: z.string().max(8).default('de') });

/** The pickup of the door the device opened last, for the page to follow (minutes, then forgotten). */
const OPERATION_TTL_SECONDS = 15 * 60;

export function kioskRoutes(d: KioskRouteDeps): Hono<KioskEnv> {
  const app = new Hono<KioskEnv>();
  const assetByPath = new Map([d.assets.css, d.assets.js].map((a) => [a.url.replace(/^\/kiosk/, ''), a]));
  const pageAssets = { css: d.assets.css.url, js: d.assets.js.url };
  const now = (): number => d.wallClock.now();
  const deviceKey = (device: KioskDevice): string => `kiosk.${device.id}`;
  const staffKey = (device: KioskDevice): string => `staff-signin.${device.id}`;
  const clientOf = (device: KioskDevice): ClientIdentity => ({ id: device.id, role: 'kiosk', authority: device.authority });
  const cookieOptions = (maxAge: number) => ({ httpOnly: true, sameSite: 'Strict' as const, path: '/kiosk', secure: d.secureCookies, maxAge });

  app.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], connectSrc: ["'self'"], frameAncestors: ["'self'", ...(d.frameAncestors ?? [])], formAction: ["'self'"], baseUri: ["'none'"] },
      referrerPolicy: 'no-referrer',
      // The CSP's frame-ancestors decides who may frame the kiosk; X-Frame-Options cannot name another origin.
      xFrameOptions: (d.frameAncestors ?? []).length === 0 ? 'SAMEORIGIN' : false,
    }),
  );
  app.use(csrf());
  app.use(
    bodyLimit({
      maxSize: 4096,
      onError: (c) => respondError(c as unknown as Context<AppEnv>, new DokuboxError('BODY_TOO_LARGE', 'A kiosk request is under 4 KB.')),
    }),
  );
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status === 403) {
      // Hono's CSRF check: a form or request from another site (or without Origin / Sec-Fetch-Site).
      return kioskError(c, new DokuboxError('FORBIDDEN', 'This request did not come from the kiosk page itself (its Origin does not match); open the kiosk at this address.'));
    }
    const err = toDokuboxError(error);
    if (err.code === 'INTERNAL') d.logger.error({ requestId: c.get('requestId'), err: error instanceof Error ? { type: error.name, message: error.message, stack: error.stack } : String(error) }, 'unhandled error');
    return kioskError(c, err);
  });

  /** JSON errors for the page: the error envelope plus what the screen should show. */
  const kioskError = (c: Context<KioskEnv>, error: DokuboxError, extra: Record<string, unknown> = {}): Response => {
    const body = { error: { code: error.code, message: error.message, retryable: error.retryable }, ...extra };
    if (error.retryable && error.status >= 500) c.header('Retry-After', '5');
    return c.json(body, error.status as 400);
  };

  app.get('/assets/:file', (c) => {
    const asset = assetByPath.get(`/assets/${c.req.param('file')}`);
    if (asset === undefined) return c.text('No such asset.', 404);
    return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' });
  });

  app.get('/enroll', (c) => c.html(enrollPage({ catalogues: d.catalogues, assets: pageAssets })));
  app.post('/enroll', async (c) => {
    const form = await c.req.parseBody();
    const code = typeof form.code === 'string' ? form.code.slice(0, 32) : '';
    const address = c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ?? 'local';
    const redeemed = await d.devices.redeem(code, now(), address);
    if (redeemed.outcome === 'too_many_attempts') {
      c.header('Retry-After', String(Math.ceil(redeemed.retryAfterMs / 1000)));
      return c.html(enrollPage({ catalogues: d.catalogues, assets: pageAssets, failed: 'tooMany' }), 429);
    }
    if (redeemed.outcome === 'invalid') return c.html(enrollPage({ catalogues: d.catalogues, assets: pageAssets, failed: 'failed' }), 401);
    setCookie(c, DEVICE_COOKIE, redeemed.token, cookieOptions(DEVICE_COOKIE_SECONDS));
    return c.redirect('/kiosk', 303);
  });

  // Everything else needs an enrolled device.
  app.use(async (c, next) => {
    const token = getCookie(c, DEVICE_COOKIE);
    const device = token === undefined || token.length > 128 ? undefined : await d.devices.identify(token);
    const box = device === undefined ? undefined : d.boxes.get(device.boxId);
    if (device === undefined || box === undefined) {
      if (c.req.method === 'GET' && !c.req.path.startsWith('/kiosk/api/')) return c.redirect('/kiosk/enroll', 303);
      return kioskError(c, new DokuboxError('UNAUTHENTICATED', 'This browser is not enrolled as a kiosk; staff enrol it at /kiosk/enroll with a one-time code.'));
    }
    c.set('device', device);
    c.set('box', box);
    c.set('client', clientOf(device));
    await next();
  });

  const status = async (device: KioskDevice, box: BoxDefinition): Promise<KioskStatus> => {
    const opening = d.service.openingState(box);
    if (!opening.open) return { state: 'closed', nextOpening: opening.nextOpening };
    const lifecycle = d.lifecycles.get(box.id);
    if (lifecycle === undefined || !(await lifecycle.online())) return { state: 'offline' };
    const attempts = await d.attempts.status(deviceKey(device), now());
    if (attempts.paused) return { state: 'paused', until: attempts.until };
    return { state: 'ready' };
  };

  const langOf = (value: string | undefined): string => (value !== undefined && d.catalogues.has(value) ? value : 'de');
  const t = (box: BoxDefinition, lang: string, key: string, values: Record<string, string | number | Date> = {}): string => d.catalogues.t(lang, key, values, box.timeZone);

  app.get('/', async (c) => c.html(languagePage({ catalogues: d.catalogues, box: c.get('box'), assets: pageAssets, status: await status(c.get('device'), c.get('box')) })));

  app.get('/api/status', async (c) => {
    const s = await status(c.get('device'), c.get('box'));
    return c.json({
      state: s.state,
      ...(s.state === 'closed' && s.nextOpening !== undefined ? { nextOpening: new Date(s.nextOpening).toISOString() } : {}),
      ...(s.state === 'paused' ? { pausedUntil: new Date(s.until).toISOString() } : {}),
    });
  });

  app.post('/api/pickups', async (c) => {
    const device = c.get('device');
    const box = c.get('box');
    const parsed = pickupSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return kioskError(c, new DokuboxError('VALIDATION_FAILED', 'Send the entries as JSON: code, and mobile, dateOfBirth, can, pinLetter as the box asks.'));
    const { lang: requested, ...entered } = parsed.data;
    const lang = langOf(requested);
    const lifecycle = d.lifecycles.get(box.id);
    try {
      if (lifecycle === undefined) throw new DokuboxError('BOX_OFFLINE', 'This box has no connected locker.');
      const opened = await lifecycle.openForPickup(clientOf(device), entered, deviceKey(device));
      await d.store.setDeviceOperation(device.id, opened.pickupId ?? '', OPERATION_TTL_SECONDS);
      const place = frontPosition(box, opened.compartment);
      return c.json({
        compartment: opened.compartment,
        title: t(box, lang, 'open.title', { compartment: opened.compartment }),
        ...(place === undefined
          ? {}
          : { front: place, picture: t(box, lang, 'open.picture', { compartment: opened.compartment, column: place.column + 1, row: place.row + 1 }) }),
      });
    } catch (error) {
      const err = toDokuboxError(error);
      switch (err.code) {
        case 'VERIFICATION_FAILED': {
          const remaining = Number(err.context?.remaining ?? 0);
          const pausedUntil = err.context?.pausedUntil;
          if (typeof pausedUntil === 'string') {
            return kioskError(c, err, { screen: 'paused', detail: t(box, lang, 'paused.body', { until: new Date(pausedUntil) }) });
          }
          return kioskError(c, err, { screen: 'failed', remaining: t(box, lang, 'verify.failed.remaining', { count: remaining }) });
        }
        case 'KIOSK_PAUSED':
          return kioskError(c, err, { screen: 'paused', detail: t(box, lang, 'paused.body', { until: new Date(String(err.context?.pausedUntil)) }) });
        case 'BOX_CLOSED': {
          const next = err.context?.nextOpening;
          return kioskError(c, err, { screen: 'closed', detail: typeof next === 'string' ? t(box, lang, 'closed.next', { when: new Date(next) }) : '' });
        }
        case 'BOX_OFFLINE':
          return kioskError(c, err, { screen: 'offline' });
        case 'PIN_LETTER_MISSING':
          return kioskError(c, err, { screen: 'pin-missing' });
        case 'COMPARTMENT_UNAVAILABLE':
          return kioskError(c, err, { screen: 'fault' });
        case 'DEPENDENCY_UNAVAILABLE':
          // The door was not opened, or the box could not confirm that it opened (its lock board went silent).
          return kioskError(c, err, { screen: 'unconfirmed' });
        default:
          throw error;
      }
    }
  });

  app.get('/api/progress', async (c) => {
    const pickupId = await d.store.deviceOperation(c.get('device').id);
    const pickup = pickupId === undefined || pickupId === '' ? undefined : await d.store.get(pickupId);
    const state = pickup?.state;
    const stage = state === 'notified' ? 'open' : state === 'collected' ? 'collected' : state === 'fault' ? 'fault' : 'unknown';
    return c.json({ stage });
  });

  /* ---------------- staff mode ---------------- */

  const staffOf = async (c: Context<KioskEnv>): Promise<StaffIdentity | undefined> => {
    const token = getCookie(c, STAFF_COOKIE);
    if (token === undefined || token.length > 128) return undefined;
    return d.staff.session(token, c.get('device').id, now());
  };

  app.get('/:lang{[a-z]{2}}', async (c) => {
    const lang = c.req.param('lang');
    if (!d.catalogues.has(lang)) return c.redirect('/kiosk', 303);
    return c.html(pickupPage({ catalogues: d.catalogues, language: lang, box: c.get('box'), assets: pageAssets, status: await status(c.get('device'), c.get('box')) }));
  });

  app.get('/:lang{[a-z]{2}}/staff', async (c) => {
    const lang = langOf(c.req.param('lang'));
    const box = c.get('box');
    const staff = await staffOf(c);
    const attempts = staff === undefined ? undefined : await d.attempts.status(deviceKey(c.get('device')), now());
    return c.html(
      staffPage({
        catalogues: d.catalogues,
        language: lang,
        box,
        assets: pageAssets,
        staff: staff === undefined ? undefined : { name: staff.name ?? staff.id },
        toEmpty: staff === undefined ? [] : await toEmpty(box),
        pausedUntil: attempts?.paused === true ? attempts.until : undefined,
      }),
    );
  });

  app.post('/:lang{[a-z]{2}}/staff/sign-in', async (c) => {
    const device = c.get('device');
    const box = c.get('box');
    const lang = langOf(c.req.param('lang'));
    const parsed = signInSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return kioskError(c, new DokuboxError('VALIDATION_FAILED', 'Send staffNumber and pin as JSON.'), { message: t(box, lang, 'staff.signin.failed') });
    const paused = await d.attempts.status(staffKey(device), now());
    if (paused.paused) {
      return kioskError(c, new DokuboxError('TOO_MANY_ATTEMPTS', 'Too many failed staff sign-ins at this kiosk; wait until the pause ends.'), { message: t(box, lang, 'staff.signin.locked', { until: new Date(paused.until) }) });
    }
    const result = await d.staff.verify(device.authority, parsed.data.staffNumber, parsed.data.pin, now());
    if (!result.ok) {
      const recorded = await d.attempts.recordFailure(staffKey(device), undefined, now());
      const lockedUntil = result.locked?.until ?? recorded.paused?.until;
      if (result.locked !== undefined || recorded.paused !== undefined) {
        await d.alarms.raise({ kind: 'staff_signin_locked', boxId: box.id, detail: `staff sign-in at ${device.id} locked until ${new Date(lockedUntil ?? now()).toISOString()}` });
      }
      const message = lockedUntil === undefined ? t(box, lang, 'staff.signin.failed') : t(box, lang, 'staff.signin.locked', { until: new Date(lockedUntil) });
      return kioskError(c, new DokuboxError(lockedUntil === undefined ? 'UNAUTHENTICATED' : 'TOO_MANY_ATTEMPTS', 'Staff number or PIN is wrong, or the sign-in is locked.'), { message });
    }
    const token = await d.staff.startSession({ staffId: result.staff.id, authority: device.authority, deviceId: device.id }, now());
    setCookie(c, STAFF_COOKIE, token, cookieOptions(10 * 60));
    return c.json({ staff: result.staff.id });
  });

  app.post('/:lang{[a-z]{2}}/staff/sign-out', async (c) => {
    const token = getCookie(c, STAFF_COOKIE);
    if (token !== undefined && token.length <= 128) await d.staff.endSession(token);
    deleteCookie(c, STAFF_COOKIE, { path: '/kiosk' });
    return c.json({ signedOut: true });
  });

  // Staff actions: a staff session on this device.
  app.use('/api/staff/*', async (c, next) => {
    const staff = await staffOf(c);
    if (staff === undefined) return kioskError(c, new DokuboxError('UNAUTHENTICATED', 'Staff must sign in at this kiosk first (staff number and PIN).'), { message: t(c.get('box'), 'de', 'staff.signin.title') });
    c.set('client', { id: staff.id, role: 'staff', authority: c.get('device').authority });
    await next();
  });

  const staffClient = (c: Context<KioskEnv>): ClientIdentity => c.get('client') as ClientIdentity;

  const bodyLang = async (c: Context<KioskEnv>): Promise<string> => {
    const parsed = langSchema.safeParse(await c.req.json().catch(() => ({})));
    return langOf(parsed.success ? parsed.data.lang : undefined);
  };

  const compartmentOf = (box: BoxDefinition, id: string): string => {
    if (!box.compartments.some((x) => x.id === id)) throw new DokuboxError('NOT_FOUND', `Compartment '${id}' does not exist in box '${box.id}'.`, { field: 'compartment' });
    return id;
  };

  const toEmpty = async (box: BoxDefinition): Promise<EmptyEntry[]> => {
    const compartments = (await d.store.listCompartments(box)).filter((s) => s.state === 'retrieval' || s.state === 'occupied');
    const states = await d.store.pickupStates(compartments.map((s) => s.pickupId ?? ''));
    const out: EmptyEntry[] = [];
    compartments.forEach((s, i) => {
      const state = states[i];
      if (state === 'expired') out.push({ compartment: s.id, reason: 'expired' });
      else if (state === 'fault') out.push({ compartment: s.id, reason: 'fault' });
      else if (s.state === 'retrieval') out.push({ compartment: s.id, reason: state === 'collected' ? 'oldDocument' : 'cancelled' });
    });
    return out;
  };

  app.post('/api/staff/loadings', async (c) => {
    const box = c.get('box');
    const parsed = loadingSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return kioskError(c, new DokuboxError('VALIDATION_FAILED', 'Send serialNumber as JSON.'), { message: t(box, 'de', 'staff.load.notFound') });
    const lang = langOf(parsed.data.lang);
    const lifecycle = d.lifecycles.get(box.id);
    try {
      if (lifecycle === undefined) throw new DokuboxError('BOX_OFFLINE', 'This box has no connected locker.');
      const opened = await lifecycle.openForLoading(staffClient(c), parsed.data.serialNumber);
      return c.json({ compartment: opened.compartment, message: t(box, lang, 'staff.load.opened', { compartment: opened.compartment }) });
    } catch (error) {
      const err = toDokuboxError(error);
      const key = err.code === 'NOT_FOUND' ? 'staff.load.notFound' : err.code === 'ILLEGAL_TRANSITION' ? 'staff.load.wrongState' : err.code === 'BOX_OFFLINE' ? 'offline.title' : 'error.generic';
      return kioskError(c, err, { message: t(box, lang, key) });
    }
  });

  app.get('/api/staff/compartments/:compartment', async (c) => {
    const box = c.get('box');
    const compartment = compartmentOf(box, c.req.param('compartment'));
    const lang = langOf(c.req.query('lang'));
    const state = (await d.store.listCompartments(box)).find((s) => s.id === compartment);
    const [pickupState] = await d.store.pickupStates([state?.pickupId ?? '']);
    const door = d.lifecycles.get(box.id)?.adapter.snapshot().find((s) => s.compartmentId === compartment)?.door ?? 'unknown';
    // The board reports a closed door before the middleware has handled the closing (loaded, emptied): while the
    // door operation's record is there (any instance's), the outcome is not known yet and the screen keeps waiting.
    const settling = (await d.store.doorOperations(box.id)).has(compartment);
    const loaded = pickupState === 'loaded' || pickupState === 'notified';
    return c.json({
      compartment,
      state: state?.state ?? 'free',
      pickupState: pickupState ?? null,
      door,
      settling,
      message: loaded ? t(box, lang, 'staff.load.loaded', { compartment }) : state?.state === 'free' ? t(box, lang, 'staff.empty.emptied', { compartment }) : '',
    });
  });

  app.post('/api/staff/compartments/:compartment/open', async (c) => {
    const box = c.get('box');
    const lang = await bodyLang(c);
    const compartment = compartmentOf(box, c.req.param('compartment'));
    const lifecycle = d.lifecycles.get(box.id);
    if (lifecycle === undefined) return kioskError(c, new DokuboxError('BOX_OFFLINE', 'This box has no connected locker.'), { message: t(box, lang, 'offline.title') });
    const occupant = await d.store.occupantOf(box.id, compartment);
    try {
      await lifecycle.openForRetrieval(staffClient(c), compartment, occupant?.pickupId ?? null, 'emptying at the kiosk');
    } catch (error) {
      return kioskError(c, toDokuboxError(error), { message: t(box, lang, 'error.generic') });
    }
    return c.json({ compartment, message: t(box, lang, 'staff.empty.opened', { compartment }) });
  });

  app.post('/api/staff/compartments/:compartment/emptied', async (c) => {
    const box = c.get('box');
    const lang = await bodyLang(c);
    const compartment = compartmentOf(box, c.req.param('compartment'));
    const state = (await d.store.listCompartments(box)).find((s) => s.id === compartment)?.state;
    const door = d.lifecycles.get(box.id)?.adapter.snapshot().find((s) => s.compartmentId === compartment)?.door;
    if (state === 'free' && door !== 'open') return c.json({ compartment, state, message: t(box, lang, 'staff.empty.emptied', { compartment }) });
    return kioskError(c, new DokuboxError('COMPARTMENT_UNAVAILABLE', `Compartment ${compartment} is not empty yet (${state ?? 'unknown'}); take everything out and close the door.`), {
      message: t(box, lang, 'staff.empty.stillInside', { compartment }),
    });
  });

  app.post('/api/staff/compartments/:compartment/defective', async (c) => {
    const box = c.get('box');
    const lang = await bodyLang(c);
    const id = c.req.param('compartment');
    if (!box.compartments.some((x) => x.id === id)) {
      return kioskError(c, new DokuboxError('NOT_FOUND', `Compartment '${id}' does not exist in box '${box.id}'.`, { field: 'compartment' }), { message: t(box, lang, 'staff.defective.unknown') });
    }
    await d.service.compartmentAction(staffClient(c), box.id, id, 'defective');
    await d.lifecycles.get(box.id)?.adapter.setEnabled(id, false);
    return c.json({ compartment: id, message: t(box, lang, 'staff.defective.done', { compartment: id }) });
  });

  app.post('/api/staff/release', async (c) => {
    const box = c.get('box');
    const lang = await bodyLang(c);
    await d.attempts.release(deviceKey(c.get('device')), now());
    return c.json({ released: true, message: t(box, lang, 'staff.release.done') });
  });

  app.notFound((c) => kioskError(c, new DokuboxError('NOT_FOUND', `No kiosk page ${c.req.method} ${c.req.path}.`)));
  return app;
}
