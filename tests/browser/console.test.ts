/**
 * The simulator's console in a real headless Debian Chromium, against the
 * middleware configured from the simulated world as `npm start` does it
 * (simulator/index.ts): Magdeburg's foyer box on emulated CU16 boards over
 * TCP, the SMS gateway with its phones, the case system with its callback.
 * A notice sent from the console's form goes all the way to `collected`
 * through the console's buttons and its embedded kiosk; a fault switched on
 * at the console shows as dokubox's alarm; axe-core finds nothing; pictures
 * of the console land under test-results/.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Browser, FrameLocator, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSimulator, type Simulator } from '../../simulator/index.js';
import { loadConfig } from '../../src/config.js';
import { sha256Hex } from '../../src/http/auth.js';
import { createLogger } from '../../src/logger.js';
import { createDokubox, type Dokubox } from '../../src/main.js';
import { loadBoxes } from '../../src/mappings/loaders.js';
import { projectPath } from '../../src/project-root.js';
import { accessibilityViolations } from '../support/axe.js';
import { launchBrowser, offlineOnly } from '../support/browser.js';
import { testEnv } from '../support/harness.js';

const AUTHORITY = 'magdeburg-abh';
const BOX = 'md-foyer';
const STAFF = { number: '1001', pin: '482916' };
const PHONE = '+4915123456701';

let simulator: Simulator;
let dokubox: Dokubox;
let browser: Browser;
let consoleUrl: string;
const logs: string[] = [];
const keys = (['staff', 'admin', 'monitoring'] as const).map((role) => ({ role, authority: AUTHORITY, key: `test-console-${role}-${randomBytes(9).toString('hex')}` }));
const keyOf = (role: string): string => keys.find((k) => k.role === role)!.key;

beforeAll(async () => {
  let middlewareUrl = '';
  simulator = await startSimulator({ middlewareUrl: () => middlewareUrl, boxes: [...loadBoxes(projectPath('mappings/boxes')).values()] });
  const config = loadConfig(
    testEnv(inject('redisUrl'), {
      ...simulator.env,
      PORT: '0',
      BOXES_DIR: 'mappings/boxes',
      LOCKERS_ENABLED: 'true',
      API_KEYS: JSON.stringify(keys.map((k) => ({ id: `console-${k.role}`, role: k.role, authority: k.authority, sha256: sha256Hex(k.key) }))),
      SMS_QUIET_HOURS: 'off',
    }),
  );
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString());
      callback();
    },
  });
  // Both gateways of the box connected: the kiosk is in service.
  const emulator = simulator.world.lockers.get(BOX)!;
  const connected = new Promise<void>((resolve) => {
    const check = () => {
      if (emulator.wiring().every((g) => g.connections > 0)) {
        emulator.off('connection', check);
        resolve();
      }
    };
    emulator.on('connection', check);
  });
  dokubox = await createDokubox(config, { logger: createLogger({ level: 'info', destination: sink }) });
  middlewareUrl = (await dokubox.listen()).url;
  simulator.ready(middlewareUrl, { apiKeys: keys });
  await connected;
  const account = await fetch(`${middlewareUrl}/v1/staff-accounts/${STAFF.number}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${keyOf('admin')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ pin: STAFF.pin, name: 'Konsole' }),
  });
  expect(account.status).toBe(204);
  consoleUrl = simulator.console.url;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (dokubox !== undefined) {
    const stale = await dokubox.redis.keys(`${dokubox.config.REDIS_KEY_PREFIX}:*`);
    if (stale.length > 0) await dokubox.redis.del(...stale);
    await dokubox.close();
  }
  await simulator?.close();
});

/** The whole console from the top (the message line stays in view while scrolling, the picture starts where the page does). */
async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync('test-results', { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join('test-results', `console-${name}.png`), fullPage: true });
}

async function openConsole(): Promise<{ page: Page; blocked: string[]; kiosk: FrameLocator }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'de-DE', timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  const blocked = await offlineOnly(page);
  await page.goto(`${consoleUrl}/`);
  await page.locator('[data-live][data-connected="true"]').waitFor();
  const kiosk = page.frameLocator('iframe[data-kiosk-frame]');
  return { page, blocked, kiosk };
}

/**
 * Presses a button or link with the keyboard. The console holds the kiosk in
 * a frame of the middleware; right after the page scrolled, Chromium may
 * still route a mouse click at a point where the frame was, so tests press
 * Enter on the focused element (as keyboard users do), which never misses.
 */
const press = (target: Locator): Promise<void> => target.press('Enter');

/** A button of the selected compartment's panel. */
const act = (page: Page, name: string) => page.locator('[data-part="compartment"]').getByRole('button', { name, exact: true });

describe('the console drives a pickup from the notice to collected', () => {
  it('sends a notice, loads it at the embedded kiosk, shows the SMS, opens with its code and reports collected', async () => {
    const { page, blocked, kiosk } = await openConsole();
    // The embedded kiosk enrolled itself with the console's one-time code.
    await kiosk.getByRole('link', { name: 'Deutsch' }).waitFor();
    expect(await accessibilityViolations(page), 'accessibility of the console at the start').toEqual([]);
    await screenshot(page, '01-start');

    // The case system sends one notice in Arabic to a chosen phone.
    await page.getByLabel('Sprache', { exact: true }).selectOption('ar');
    await page.getByLabel('Handy', { exact: true }).selectOption(PHONE);
    await press(page.getByRole('button', { name: 'Mitteilung senden' }));
    await page.locator('p[data-message]').getByText('Gesendet. 1 × created').waitFor();
    const notice = page.locator('[data-part="notices"] li.notice[data-outcome="created"]').first();
    await notice.locator('[data-report-status="reserved"]').waitFor();
    const pickupId = (await notice.getAttribute('data-pickup'))!;
    const compartment = simulator.world.reportsByPickup().get(pickupId)![0]!.compartment!;
    const serial = (await notice.locator('code[data-serial]').first().innerText()).trim();
    const birth = (await notice.locator('[data-birth]').getAttribute('data-birth'))!;
    const cell = page.locator(`button[data-c="${compartment}"]`);
    await expect.poll(() => cell.getAttribute('data-state')).toBe('reserved');
    await screenshot(page, '02-reserved');

    // Staff sign in at the kiosk and scan the document: the reserved compartment opens.
    // The kiosk is shown scaled down to fit the laptop's screen; Playwright cannot aim its mouse into a scaled frame, the keyboard works.
    await press(kiosk.getByRole('link', { name: 'Personal' }));
    await kiosk.locator('#staff-number').fill(STAFF.number);
    await kiosk.locator('#staff-number').press('Enter');
    await kiosk.locator('#staff-pin').fill(STAFF.pin);
    await kiosk.locator('#staff-pin').press('Enter');
    await kiosk.getByRole('heading', { name: 'Personalmodus' }).waitFor();
    await kiosk.getByLabel('Dokumentennummer').fill(serial);
    await kiosk.getByLabel('Dokumentennummer').press('Enter');
    await kiosk.getByText(`Fach ${compartment} ist offen.`).waitFor();
    await expect.poll(() => cell.getAttribute('data-door')).toBe('open');

    // At the console: select the compartment, put the document in, close the door.
    await press(cell);
    await page.locator(`[data-part="compartment"] [data-compartment="${compartment}"]`).waitFor();
    await press(act(page, 'Dokument einlegen'));
    await expect.poll(() => page.locator('[data-part="compartment"] [data-fact="item"]').innerText()).toBe('Dokument drin');
    await press(act(page, 'Tür schließen'));
    await kiosk.getByText(`Fach ${compartment} ist beladen.`).waitFor();

    // The SMS arrives in the phone's inbox, right to left in Arabic.
    const sms = page.locator(`[data-part="phones"] li.phone[data-phone="${PHONE}"] [data-sms-text]`).last();
    await sms.waitFor();
    expect(await sms.getAttribute('lang')).toBe('ar');
    expect(await sms.getAttribute('dir')).toBe('auto');
    expect(await sms.evaluate((element) => getComputedStyle(element).direction)).toBe('rtl');
    const code = /\b(\d{6})\b/.exec(await sms.innerText())?.[1];
    expect(code).toBeDefined();
    await notice.locator('[data-report-status="notified"]').waitFor();
    await screenshot(page, '03-loaded-sms');

    // The applicant at the kiosk: mobile number, code, date of birth; the door opens.
    await press(kiosk.locator('button[data-action="signout"]'));
    await press(kiosk.getByRole('link', { name: 'Deutsch' }));
    const step = kiosk.locator('main section[data-screen]:not([hidden])');
    for (const value of [PHONE.replace('+49', '0'), code!, birth]) {
      await step.locator('input').fill(value);
      await press(step.locator('button[data-action="next"]'));
    }
    await kiosk.locator('main section[data-screen="open"]:not([hidden])').waitFor();
    await expect.poll(() => cell.getAttribute('data-door')).toBe('open');
    await screenshot(page, '04-open');

    // The applicant takes the document and closes the door: the case system hears `collected`.
    await press(act(page, 'Dokument entnehmen'));
    await expect.poll(() => page.locator('[data-part="compartment"] [data-fact="item"]').innerText()).toBe('leer');
    await press(act(page, 'Tür schließen'));
    await notice.locator('[data-report-status="collected"]').waitFor();
    // In order of their sequence numbers; the SMS delivery report comes whenever the phone confirms it.
    const statuses = await notice.locator('[data-report-status]').evaluateAll((items) => items.map((i) => i.getAttribute('data-report-status')));
    expect(statuses.filter((s) => s !== 'smsDelivered')).toEqual(['reserved', 'loaded', 'notified', 'collected']);
    await screenshot(page, '05-collected');
    expect(await accessibilityViolations(page), 'accessibility of the console after the pickup').toEqual([]);
    expect(blocked).toEqual([]);

    // Nothing personal in the middleware's log: not the code, not the name, not the phone number.
    const everything = logs.join('');
    const person = simulator.world.notices.find((n) => n.pickupId === pickupId)!.person!;
    for (const secret of [code!, person.name, PHONE.slice(3)]) expect(everything).not.toContain(secret);
    await page.context().close();
  }, 120_000);
});

describe('faults from the console', () => {
  it('a silent board switched on shows as dokubox’s board_offline alarm, and switched off as board_online', async () => {
    const { page } = await openConsole();
    const board = page.getByRole('button', { name: 'Platine 3 an gw2 stumm' });
    await press(board);
    await page.locator('p[data-message]').getByText('Erledigt.').waitFor();
    await page.getByRole('button', { name: 'Platine 3 an gw2 stumm', pressed: true }).waitFor();
    expect(simulator.world.faults().map((f) => f.id)).toContain('silent-board:md-foyer:gw2:3');
    await page.locator('[data-part="middleware"] [data-alarm="board_offline"]').waitFor({ timeout: 15_000 });
    await screenshot(page, '06-silent-board');
    expect(await accessibilityViolations(page), 'accessibility of the console with a fault on').toEqual([]);
    await press(board);
    await page.getByRole('button', { name: 'Platine 3 an gw2 stumm', pressed: false }).waitFor();
    expect(simulator.world.faults()).toEqual([]);
    await page.locator('[data-part="middleware"] [data-alarm="board_online"]').waitFor({ timeout: 15_000 });
    await page.context().close();
  }, 60_000);

  it('shows the reason when the world refuses a request (a closed door takes no document, wall time has no speed)', async () => {
    const { page } = await openConsole();
    await press(page.locator('button[data-c="456"]'));
    await page.locator('[data-part="compartment"] [data-compartment="456"]').waitFor();
    // The door is closed: the API refuses to put a document in, with its reason.
    const answer = await page.evaluate(async () => {
      const response = await fetch('/api/boxes/md-foyer/compartments/456/insert', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return { status: response.status, body: (await response.json()) as { code: string } };
    });
    expect(answer).toMatchObject({ status: 409, body: { code: 'DOOR_CLOSED' } });
    await press(page.getByRole('button', { name: '1×' }));
    await page.locator('[data-message][data-kind="error"]').getByText('Time is not simulated').waitFor();
    await page.context().close();
  });
});

describe('the console by keyboard', () => {
  it('walks the box front with the arrow keys as it stands and opens a compartment with Enter', async () => {
    const { page } = await openConsole();
    await page.locator('button[data-c="001"]').focus();
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowRight');
    // Up from 001 is 002 (filled from the bottom), right of it the next column's second: 021.
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.c)).toBe('021');
    await page.keyboard.press('Enter');
    await page.locator('[data-part="compartment"] [data-compartment="021"]').waitFor();
    expect(await page.locator('button[data-c="021"]').getAttribute('aria-current')).toBe('true');
    expect(new URL(page.url()).searchParams.get('c')).toBe('021');
    await page.context().close();
  });
});

describe('the console in English with another format', () => {
  it('sends an XÖV notice and cancels it, in English, accessible', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${consoleUrl}/?lang=en`);
    await page.locator('[data-live][data-connected="true"]').waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByRole('heading', { name: 'How dokubox reacts' }).waitFor();
    await page.getByLabel('Format', { exact: true }).selectOption('xoev');
    await page.getByLabel('Language', { exact: true }).selectOption('uk');
    await press(page.getByRole('button', { name: 'Send notice' }));
    await page.locator('p[data-message]').getByText('Sent. 1 × created').waitFor();
    // The list is redrawn after the message shows: find the new notice by its format, not by its place.
    const notice = page.locator('[data-part="notices"] li.notice', { hasText: 'XOEV' }).first();
    await notice.locator('[data-report-status="reserved"]').waitFor();
    expect(await notice.innerText()).toContain('Ukrainian');
    const pickupId = (await notice.getAttribute('data-pickup'))!;
    await press(page.getByRole('button', { name: `Cancel pickup ${pickupId.slice(0, 8)}` }));
    await notice.locator('[data-report-status="cancelled"]').waitFor();
    expect(await accessibilityViolations(page), 'accessibility of the English console').toEqual([]);
    await screenshot(page, '07-english-cancelled');
    await context.close();
  });
});
