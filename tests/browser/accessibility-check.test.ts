/**
 * The accessibility check the page tests rely on (tests/support/axe.ts): it
 * must find violations in the page and in its frames, under the strict
 * Content-Security-Policy our screens send, and again after a frame loads a
 * new document. A check that found nothing would let every page test pass.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations } from '../support/axe.js';
import { launchBrowser } from '../support/browser.js';

const PAGES: Record<string, string> = {
  '/top': '<!doctype html><html lang="en"><head><title>top</title></head><body><main><h1>Top</h1><img src="/pixel"><iframe title="inner" src="/inner"></iframe></main></body></html>',
  '/inner': '<!doctype html><html lang="en"><head><title>inner</title></head><body><main><button></button></main></body></html>',
  '/clean': '<!doctype html><html lang="en"><head><title>clean</title></head><body><main><h1>Clean</h1><button>Go</button></main></body></html>',
};

let server: Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  server = createServer((req, res) => {
    const html = PAGES[req.url ?? ''];
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; script-src 'self'" });
    res.end(html ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('the accessibility check of the page tests', () => {
  it('finds violations in the page and in a frame, under a strict Content-Security-Policy', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/top`);
    await page.frameLocator('iframe').locator('button').waitFor({ state: 'attached' });
    const found = await accessibilityViolations(page);
    expect(found.some((v) => v.startsWith('image-alt: img'))).toBe(true);
    expect(found.some((v) => v.startsWith('button-name: iframe button'))).toBe(true);
    // A second check on the same documents gives the same answer.
    expect(await accessibilityViolations(page)).toEqual(found);
  });

  it('checks a frame again after it loads a new document, and passes a clean one', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/top`);
    await page.frameLocator('iframe').locator('button').waitFor({ state: 'attached' });
    expect((await accessibilityViolations(page)).some((v) => v.startsWith('button-name: iframe button'))).toBe(true);
    await page.locator('iframe').evaluate((frame: HTMLIFrameElement) => (frame.src = '/clean'));
    await page.frameLocator('iframe').getByRole('button', { name: 'Go' }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([expect.stringMatching(/^image-alt: img/)]);
    await page.goto(`${base}/clean`);
    expect(await accessibilityViolations(page)).toEqual([]);
  });
});
