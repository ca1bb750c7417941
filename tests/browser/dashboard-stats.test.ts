/**
 * The statistics page and the queue board in a real headless Chromium: the
 * chart is drawn by Chart.js loaded from the app, nothing is asked of any
 * host but this one, axe-core finds nothing (German and English); bull-board
 * opens for an admin and lists the queues. Pictures under
 * test-results/dashboard/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientIdentity } from '../../src/service/types.js';
import { launchBrowser, offlineOnly } from '../support/browser.js';
import { AUTHORITY, BOX, createWorld, notice, type TestWorld } from '../support/harness.js';
import { accessibilityViolations } from '../support/kiosk-world.js';

const PW = 'browser test password';
const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

let world: TestWorld;
let base: string;
let browser: Browser;

async function screenshot(page: Page, name: string): Promise<void> {
  const dir = join('test-results', 'dashboard');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** A signed-in page that records every request, blocks any to another host, and collects console errors. */
async function signedIn(username: string, locale = 'de-DE') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale });
  const page = await context.newPage();
  const blocked = await offlineOnly(page);
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/dashboard/sign-in`);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(PW);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL(`${base}/dashboard`);
  return { page, blocked, requests, errors };
}

beforeAll(async () => {
  world = await createWorld({ env: { PORT: '0' }, start: '2026-03-02T08:00:00Z' });
  base = (await world.dokubox.listen()).url;
  const now = world.clock.now();
  await world.dokubox.dashboard.accounts.create({ username: 'md.clerk', authority: AUTHORITY, role: 'clerk', password: PW, name: 'K. Meyer' }, now);
  await world.dokubox.dashboard.accounts.create({ username: 'md.admin', authority: AUTHORITY, role: 'admin', password: PW, name: 'M. Schulz' }, now);
  // A week of pickups: each day some notices, some collected, an SMS delivered or failed.
  const service = world.dokubox.service;
  for (let day = 0; day < 7; day += 1) {
    world.clock.set(Date.parse('2026-03-02T08:00:00Z') + day * 86_400_000);
    const ids: string[] = [];
    for (let i = 0; i < 1 + (day % 3); i += 1) ids.push((await service.submitNotice(caseSystem, notice({ boxId: BOX }))).pickup.id);
    await service.markLoaded(ids[0]!, 'staff:s1');
    await service.markNotified(ids[0]!, 'system:sms');
    await service.recordSms(ids[0]!, day % 4 === 0 ? 'sms_failed' : 'sms_delivered');
    world.clock.set(world.clock.now() + 45 * 60_000);
    if (day % 2 === 0) await service.markCollected(ids[0]!, 'kiosk:k1', 'code_and_date_of_birth');
  }
  await world.dokubox.events.drain();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await world?.close();
});

describe('the statistics page in Chromium', () => {
  it('draws the chart with Chart.js from the app, has no accessibility violations, and asks no other host (German)', async () => {
    const { page, blocked, requests, errors } = await signedIn('md.clerk');
    await page.goto(`${base}/dashboard/boxes/${BOX}`);
    await page.getByRole('link', { name: 'Statistik' }).click();
    await page.waitForURL(`${base}/dashboard/boxes/${BOX}/statistics?lang=de`);
    await page.getByLabel('Von').fill('2026-03-01');
    await page.getByLabel('Bis').fill('2026-03-09');
    await page.getByRole('button', { name: 'Anzeigen' }).click();
    await page.waitForURL(/from=2026-03-01&to=2026-03-09/);
    await page.locator('canvas#stats-chart[data-drawn="true"]').waitFor();
    expect(await page.evaluate(() => typeof (window as unknown as { Chart?: unknown }).Chart)).toBe('function');
    // Chart.js drew on the canvas: some pixels are not transparent.
    const painted = await page.evaluate(() => {
      const canvas = document.getElementById('stats-chart') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n += 1;
      return n;
    });
    expect(painted).toBeGreaterThan(1000);
    expect(await page.locator('canvas#stats-chart').getAttribute('role')).toBe('img');
    expect(await page.locator('canvas#stats-chart').getAttribute('aria-label')).toContain('Bescheide 13, Abgeholt 4');
    expect(await page.locator('table.stats tbody tr').count()).toBe(9);
    expect(await page.getByRole('table', { name: /Zahlen je Zeitraum/ }).count()).toBe(1);
    expect(requests.some((u) => /^http:\/\/127\.0\.0\.1:\d+\/dashboard\/assets\/chart\.umd\.[0-9a-f]{10}\.js$/.test(u))).toBe(true);
    expect(requests.filter((u) => !u.startsWith(base))).toEqual([]);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'stats-01-de-days');

    // Weeks, and a bad range: the 400 page is accessible too.
    await page.getByLabel('Je Zeile').selectOption('week');
    await page.getByRole('button', { name: 'Anzeigen' }).click();
    await page.waitForURL(/granularity=week/);
    await page.locator('canvas#stats-chart[data-drawn="true"]').waitFor();
    expect(await page.locator('table.stats tbody th').allInnerTexts()).toEqual(['2026-W09', '2026-W10', '2026-W11']);
    await screenshot(page, 'stats-02-de-weeks');
    const bad = await page.goto(`${base}/dashboard/boxes/${BOX}/statistics?from=2026-03-09&to=2026-03-01`);
    expect(bad?.status()).toBe(400);
    await page.getByRole('alert').getByText('„Von“ darf nicht nach „Bis“ liegen.').waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'stats-03-de-bad-range');

    // The CSV link downloads a file of the same range.
    await page.goto(`${base}/dashboard/boxes/${BOX}/statistics?from=2026-03-01&to=2026-03-09`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV herunterladen' }).click()]);
    expect(download.suggestedFilename()).toBe(`statistics-${BOX}-2026-03-01-2026-03-09.csv`);
    expect(blocked).toEqual([]);
    // The only console error: the bad range's answer, 400.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    await page.context().close();
  });

  it('is accessible in English too', async () => {
    const { page, blocked, errors } = await signedIn('md.clerk', 'en-GB');
    await page.goto(`${base}/dashboard/boxes/${BOX}/statistics?from=2026-03-01&to=2026-03-09&lang=en`);
    await page.locator('canvas#stats-chart[data-drawn="true"]').waitFor();
    expect(await page.getByRole('link', { name: 'Download CSV' }).count()).toBe(1);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'stats-04-en-days');
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe('the queue board in Chromium', () => {
  it('opens for an admin and lists the queues, from this host only', async () => {
    const { page, blocked, requests, errors } = await signedIn('md.admin');
    await page.goto(`${base}/dashboard/queues`);
    for (const name of ['sms', 'case-system-reports', 'maintenance']) await page.getByText(name, { exact: true }).first().waitFor();
    await screenshot(page, 'queues-01-admin');
    // The vendor's page with our fixes (src/web/dashboard/queues-fix.*): names for icon buttons, contrast.
    await page.locator('button[aria-label]').first().waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.goto(`${base}/dashboard/queues/queue/sms`);
    await page.locator('button[aria-label]').first().waitFor();
    await page.getByText('Wird geladen').waitFor({ state: 'detached' });
    await screenshot(page, 'queues-03-sms-queue');
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(base))).toEqual([]);
    expect(blocked).toEqual([]);
    expect(errors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
    await page.context().close();
  });

  it('shows a clerk the refusal page', async () => {
    const { page } = await signedIn('md.clerk');
    const res = await page.goto(`${base}/dashboard/queues`);
    expect(res?.status()).toBe(403);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'queues-02-clerk-refused');
    await page.context().close();
  });
});
