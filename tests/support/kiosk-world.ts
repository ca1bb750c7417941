/**
 * The box's touchscreen under test: a dokubox with three boxes (the policies
 * of Magdeburg, Bochum and Dortmund), each on its own CU16 emulator over TCP,
 * the development SMS gateway delivering into simulated phones, a headless
 * Debian Chromium with an enrolled kiosk per box, and helpers that bring a
 * pickup to `notified` the way staff and the case system do.
 */
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { Cu16Emulator } from '../../simulator/locker/cu16-emulator.js';
import { startSmsGatewaySimulator, type SmsGatewaySimulator } from '../../simulator/sms-gateway/index.js';
import type { NoticeInput } from '../../src/core/notice.js';
import { sha256Hex } from '../../src/http/auth.js';
import { accessibilityViolations } from './axe.js';
import { launchBrowser, offlineOnly } from './browser.js';
import { createWorld, notice, type TestWorld } from './harness.js';

export { accessibilityViolations };

export const KIOSK_BOXES = {
  'md-kiosk': { authority: 'magdeburg-abh' },
  'bo-kiosk': { authority: 'bochum-abh' },
  'do-kiosk': { authority: 'dortmund-abh' },
} as const;
export type KioskBox = keyof typeof KIOSK_BOXES;

export const STAFF = { number: '1001', pin: '246810', name: 'M. Schulz' };

const key = (role: string, authority: string) => `test-${role}-${authority}-key-0001`;
export const keyOf = (role: 'case-system' | 'staff' | 'admin', box: KioskBox) => key(role, KIOSK_BOXES[box].authority);

export interface KioskWorld {
  world: TestWorld;
  base: string;
  browser: Browser;
  phones: SmsGatewaySimulator;
  emulators: Record<KioskBox, Cu16Emulator>;
  /** A browser context whose cookie jar holds an enrolled kiosk of `box`. */
  kiosk(box: KioskBox): Promise<{ context: BrowserContext; page: Page; blocked: string[] }>;
  /** A pickup brought to `notified`: notice, staff loading at the box, SMS in the phone; returns its code. */
  notifiedPickup(box: KioskBox, overrides?: Partial<NoticeInput>): Promise<{ pickupId: string; compartment: string; code: string; notice: NoticeInput }>;
  /** A pickup brought to `loaded` (notice, staff loading at the box); its ready SMS may still be on its way. */
  loadedPickup(box: KioskBox, overrides?: Partial<NoticeInput>): Promise<{ pickupId: string; compartment: string; notice: NoticeInput }>;
  /** Resolves once `done()` holds, checked now and after every SMS job that ends (completed or failed). */
  untilSms(done: () => Promise<boolean>): Promise<void>;
  /** Resolves once the pickup is in `state` (checked after every locker event). */
  untilState(box: KioskBox, pickupId: string, state: string): Promise<void>;
  api(method: string, path: string, keyValue: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

let phoneCounter = 0;

export async function createKioskWorld(options: { start?: string; env?: Record<string, string> } = {}): Promise<KioskWorld> {
  const phones = await startSmsGatewaySimulator();
  const emulators = {} as Record<KioskBox, Cu16Emulator>;
  const endpoints: Record<string, string> = {};
  for (const box of Object.keys(KIOSK_BOXES) as KioskBox[]) {
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }], compartments: ['01', '02', '03', '04', '05', '06'].map((id, lock) => ({ id, locker: { gateway: 'gw1', board: 0, lock } })) });
    const [gateway] = await emulator.start();
    emulators[box] = emulator;
    endpoints[`${box}/gw1`] = `127.0.0.1:${gateway!.port}`;
  }
  const apiKeys = Object.values(KIOSK_BOXES).flatMap(({ authority }) =>
    (['case-system', 'staff', 'admin'] as const).map((role) => ({ id: `${role}-${authority}`, role, authority, sha256: sha256Hex(key(role, authority)) })),
  );
  const world = await createWorld({
    start: options.start ?? '2026-03-02T09:00:00Z',
    env: {
      PORT: '0',
      BOXES_DIR: 'tests/fixtures/boxes-kiosk',
      LOCKERS_ENABLED: 'true',
      LOCKER_ENDPOINTS: JSON.stringify(endpoints),
      API_KEYS: JSON.stringify(apiKeys),
      SMS_GATEWAY: 'dev',
      SMS_DEV_URL: phones.seven.url,
      BOX_OPENING_HOURS: 'enforce',
      ...options.env,
    },
  });
  const base = (await world.dokubox.listen()).url;
  const connected = (Object.values(emulators) as Cu16Emulator[]).map((e) => once(e, 'connection'));
  await world.dokubox.lockers.start();
  await Promise.all(connected);
  const worker = world.dokubox.sms.start();
  const browser = await launchBrowser();

  const api = (method: string, path: string, keyValue: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${keyValue}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  for (const box of Object.keys(KIOSK_BOXES) as KioskBox[]) {
    const created = await api('PUT', `/v1/staff-accounts/${STAFF.number}`, keyOf('admin', box), { pin: STAFF.pin, name: STAFF.name });
    expect(created.status).toBe(204);
  }

  const untilState = (box: KioskBox, pickupId: string, state: string): Promise<void> => {
    const lifecycle = world.dokubox.lockers.lifecycles.get(box)!;
    return new Promise<void>((resolve) => {
      const check = async () => {
        await lifecycle.settled();
        if ((await world.dokubox.store.get(pickupId))?.state === state) {
          lifecycle.adapter.off('event', check);
          resolve();
        }
      };
      lifecycle.adapter.on('event', check);
      void check();
    });
  };

  const loadedPickup = async (box: KioskBox, overrides: Partial<NoticeInput> = {}): Promise<{ pickupId: string; compartment: string; notice: NoticeInput }> => {
    phoneCounter += 1;
    const mobile = `+49151${String(40_000_000 + phoneCounter)}`;
    const input = notice({ authority: KIOSK_BOXES[box].authority, boxId: box, mobile, ...overrides });
    const created = await api('POST', '/v1/notices', keyOf('case-system', box), input);
    expect(created.status).toBe(201);
    const { pickup } = (await created.json()) as { pickup: { id: string; compartment: string } };
    const loading = await api('POST', `/v1/boxes/${box}/loadings`, keyOf('staff', box), { serialNumber: input.documents[0]!.serialNumber });
    expect(loading.status).toBe(200);
    const emulator = emulators[box];
    emulator.insertItem(pickup.compartment);
    const loaded = untilState(box, pickup.id, 'loaded');
    emulator.closeDoor(pickup.compartment);
    await loaded;
    await world.dokubox.events.drain();
    return { pickupId: pickup.id, compartment: pickup.compartment, notice: input };
  };

  const untilSms = async (done: () => Promise<boolean>): Promise<void> => {
    for (;;) {
      // Listening before the check, so that a job ending during it is not missed; the listener that did not fire is removed.
      const stop = new AbortController();
      const ended = Promise.race([once(worker, 'completed', { signal: stop.signal }), once(worker, 'failed', { signal: stop.signal })]);
      ended.catch(() => undefined);
      try {
        if (await done()) return;
        await ended;
      } finally {
        stop.abort();
      }
    }
  };

  return {
    world,
    base,
    browser,
    phones,
    emulators,
    api,
    untilState,
    async kiosk(box) {
      const enrollment = await api('POST', '/v1/kiosk-enrollments', keyOf('staff', box), { boxId: box });
      expect(enrollment.status).toBe(201);
      const { code } = (await enrollment.json()) as { code: string };
      const context = await browser.newContext({ viewport: { width: 1280, height: 1024 }, locale: 'de-DE' });
      const page = await context.newPage();
      const blocked = await offlineOnly(page);
      await page.goto(`${base}/kiosk/enroll`);
      await page.getByLabel('Einrichtungscode').fill(code);
      await page.getByRole('button', { name: 'Einrichten' }).click();
      await page.waitForURL(`${base}/kiosk`);
      return { context, page, blocked };
    },
    loadedPickup,
    untilSms,
    async notifiedPickup(box, overrides = {}) {
      const { pickupId, compartment, notice: input } = await loadedPickup(box, overrides);
      const messages = await phones.inbox.waitFor(input.mobile);
      const code = /\b(\d{6})\b/.exec(messages.at(-1)!.text)?.[1];
      expect(code).toBeDefined();
      // The worker marks the pickup notified once the gateway accepted the SMS; other jobs may finish in between.
      await untilSms(async () => (await world.dokubox.store.get(pickupId))?.state === 'notified');
      return { pickupId, compartment, code: code!, notice: input };
    },
    async close() {
      await browser.close();
      await world.dokubox.lockers.stop();
      await world.close();
      await phones.close();
      for (const emulator of Object.values(emulators) as Cu16Emulator[]) await emulator.stop();
    },
  };
}

/** Saves a screenshot under test-results/kiosk/ for reviewers. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = join('test-results', 'kiosk');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}


/** Checks the visible screen for accessibility and saves its picture. */
export async function checkScreen(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  expect(await accessibilityViolations(page), `accessibility of ${name}`).toEqual([]);
}
