import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, offlineOnly } from '../support/browser.js';
import { createWorld, type TestWorld } from '../support/harness.js';

let world: TestWorld;
let browser: Browser;
let base: string;

beforeAll(async () => {
  world = await createWorld({ env: { PORT: '0' } });
  base = (await world.dokubox.listen()).url;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await world.close();
});

describe('API docs page', () => {
  it('renders every operation in a real browser without reaching the internet', async () => {
    const page = await browser.newPage();
    const blocked = await offlineOnly(page);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/docs`);
    await page.getByText('dokubox API').first().waitFor();
    await page.locator('.opblock-summary-path', { hasText: '/v1/notices' }).first().waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThanOrEqual(12);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('"Try it out" sends the request to the origin that serves the page, whatever its port', async () => {
    const page = await browser.newPage();
    const blocked = await offlineOnly(page);
    const sent: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/livez') sent.push(r.url());
    });
    await page.goto(`${base}/docs`);
    const operation = page.locator('.opblock', { has: page.locator('.opblock-summary-path', { hasText: /^\/livez$/ }) });
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    // Swagger UI shows the request URL and the live answer (or "Failed to fetch") once the request ended.
    await operation.locator('.live-responses-table tbody .response-col_status').first().waitFor({ timeout: 5000 });
    expect(await operation.locator('.request-url').innerText()).toContain(`${base}/livez`);
    expect(await operation.locator('.live-responses-table tbody .response-col_status').first().innerText()).toBe('200');
    expect(sent).toEqual([`${base}/livez`]);
    expect(blocked).toEqual([]);
  });
});
