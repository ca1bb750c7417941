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
});
