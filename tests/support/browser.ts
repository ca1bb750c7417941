/**
 * Headless Debian Chromium driven by playwright-core (never a downloaded
 * browser). Requests to anything but localhost are blocked and recorded, so a
 * page that needs the internet fails its test.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Blocks every non-local request and returns the list of blocked URLs. */
export async function offlineOnly(page: Page): Promise<string[]> {
  const blocked: string[] = [];
  await page.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.protocol === 'data:') return route.continue();
    blocked.push(url.href);
    return route.abort();
  });
  return blocked;
}
