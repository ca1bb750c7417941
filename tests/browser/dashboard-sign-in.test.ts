/**
 * Signing in to the office's dashboard and out again in a real headless
 * Chromium: wrong password, right password, the placeholder start page,
 * sign-out, in German and English; every screen checked with axe-core
 * (WCAG 2.1 A/AA) and saved as a picture under test-results/dashboard/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, offlineOnly } from '../support/browser.js';
import { AUTHORITY, createWorld, type TestWorld } from '../support/harness.js';
import { accessibilityViolations } from '../support/kiosk-world.js';

const PW = 'browser test password';

let world: TestWorld;
let base: string;
let browser: Browser;

async function checkScreen(page: Page, name: string): Promise<void> {
  const dir = join('test-results', 'dashboard');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  expect(await accessibilityViolations(page), `accessibility of ${name}`).toEqual([]);
}

beforeAll(async () => {
  world = await createWorld({ env: { PORT: '0' } });
  base = (await world.dokubox.listen()).url;
  await world.dokubox.dashboard.accounts.create({ username: 'md.clerk', authority: AUTHORITY, role: 'clerk', password: PW, name: 'K. Meyer' }, world.clock.now());
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await world?.close();
});

describe('signing in to the dashboard', () => {
  it('refuses a wrong password, admits the right one, shows who is signed in, and signs out (German)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
    const page = await context.newPage();
    const blocked = await offlineOnly(page);
    await page.goto(`${base}/dashboard`);
    await page.waitForURL(`${base}/dashboard/sign-in`);
    await checkScreen(page, 'de-01-sign-in');

    await page.getByLabel('Benutzername').fill('md.clerk');
    await page.getByLabel('Passwort').fill('not the password');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByText('Benutzername oder Passwort ist falsch.').waitFor();
    expect(await page.getByLabel('Benutzername').inputValue()).toBe('md.clerk');
    await checkScreen(page, 'de-02-sign-in-failed');

    await page.getByLabel('Passwort').fill(PW);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.waitForURL(`${base}/dashboard`);
    await page.getByText('Angemeldet als md.clerk (Sachbearbeitung)').waitFor();
    await checkScreen(page, 'de-03-signed-in');
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'dokubox_session', httpOnly: true, sameSite: 'Strict', path: '/dashboard' });

    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.waitForURL(`${base}/dashboard/sign-in?ended=signed-out&lang=de`);
    await page.getByText('Sie sind abgemeldet.').waitFor();
    await checkScreen(page, 'de-04-signed-out');
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${base}/dashboard`);
    await page.waitForURL(`${base}/dashboard/sign-in`);
    expect(blocked).toEqual([]);
    await context.close();
  });

  it('works in English, and a session that ran out sends the person back to sign in', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${base}/dashboard/sign-in`);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByLabel('Username').fill('MD.Clerk');
    await page.getByLabel('Password').fill(PW);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/dashboard`);
    await page.getByText('Signed in as md.clerk (Clerk)').waitFor();
    await checkScreen(page, 'en-01-signed-in');
    world.clock.advance(31 * 60_000);
    await page.goto(`${base}/dashboard?lang=en`);
    await page.waitForURL(`${base}/dashboard/sign-in?ended=expired&lang=en`);
    await page.getByText('Your session has ended. Please sign in again.').waitFor();
    await checkScreen(page, 'en-02-session-ended');
    await context.close();
  });

  it('shows the lock with its end time after five wrong passwords', async () => {
    await world.dokubox.dashboard.accounts.create({ username: 'md.locked', authority: AUTHORITY, role: 'clerk', password: PW }, world.clock.now());
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
    const page = await context.newPage();
    await page.goto(`${base}/dashboard/sign-in`);
    for (let i = 0; i < 5; i += 1) {
      await page.getByLabel('Benutzername').fill('md.locked');
      await page.getByLabel('Passwort').fill(`wrong password ${i}`);
      await page.getByRole('button', { name: 'Anmelden' }).click();
      await page.locator('#signin-problem').waitFor();
    }
    await page.getByText(/Die Anmeldung ist gesperrt bis \d\d:\d\d Uhr\./).waitFor();
    await checkScreen(page, 'de-05-locked');
    await context.close();
  });

  it('refuses a form whose session token was tampered with (CSRF), explains it, and keeps the session', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
    const page = await context.newPage();
    await page.goto(`${base}/dashboard/sign-in`);
    await page.getByLabel('Benutzername').fill('md.clerk');
    await page.getByLabel('Passwort').fill(PW);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.waitForURL(`${base}/dashboard`);
    // As a forged form would: the right origin, a wrong token.
    await page.locator('input[name="csrf"]').first().evaluate((input) => ((input as HTMLInputElement).value = 'forged-token'));
    const [response] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/dashboard/sign-out'), page.getByRole('button', { name: 'Abmelden' }).click()]);
    expect(response.status()).toBe(403);
    await page.getByText('Die Anfrage wurde abgelehnt, weil sie nicht von dieser Seite kam.', { exact: false }).waitFor();
    await checkScreen(page, 'de-06-csrf-refused');
    await page.goto(`${base}/dashboard`);
    await page.getByText('Angemeldet als md.clerk (Sachbearbeitung)').waitFor();
    await context.close();
  });
});
