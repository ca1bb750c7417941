/**
 * The box's touchscreen on a cold start: a fresh browser context (empty
 * cache) loads the first screen (`/kiosk`) and a language's first step
 * (`/kiosk/de`) in headless Debian Chromium, against a floor: a minimal
 * page of the same shape (HTML, one style sheet, one script) from a bare
 * node:http server in the same run. Prints the medians, the ratio to the
 * floor and the bytes transferred.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { sha256Hex } from '../src/http/auth.js';
import { createDokubox } from '../src/main.js';

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Loads `url` in a fresh context `rounds` times: load-event times (ms) and bytes of the last load. */
async function coldLoads(browser: Browser, url: string, rounds: number, cookies: Parameters<BrowserContext['addCookies']>[0]): Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < rounds; i += 1) {
    const context = await browser.newContext();
    if (cookies.length > 0) await context.addCookies(cookies);
    const page = await context.newPage();
    let total = 0;
    page.on('response', (response) => {
      void response.body().then((b) => (total += b.length), () => undefined);
    });
    await page.goto(url, { waitUntil: 'load' });
    ms.push(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventEnd));
    bytes = total;
    await context.close();
  }
  return { ms, bytes };
}

export async function benchKiosk(redisUrl: string, rounds = 20): Promise<string> {
  const staffKey = `bench-staff-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `bench-kiosk-${randomBytes(4).toString('hex')}`,
    PORT: '0',
    LOG_LEVEL: 'silent',
    SECRET_KEY: randomBytes(32).toString('base64'),
    PII_KEY: randomBytes(32).toString('base64'),
    API_KEYS: JSON.stringify([{ id: 'bench-staff', role: 'staff', authority: 'magdeburg-abh', sha256: sha256Hex(staffKey) }]),
    SMS_DEV_URL: 'http://127.0.0.1:9',
    LOCKERS_ENABLED: 'false',
  });
  const dokubox = await createDokubox(config, { background: false });
  const floorCss = 'body{font-family:sans-serif}'.repeat(20);
  const floorJs = 'document.body.dataset.ready="1";';
  const floor = createServer((req, res) => {
    if (req.url === '/floor.css') return res.writeHead(200, { 'content-type': 'text/css' }).end(floorCss);
    if (req.url === '/floor.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(floorJs);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="de"><head><meta charset="utf-8"><title>floor</title><link rel="stylesheet" href="/floor.css"><script type="module" src="/floor.js"></script></head><body><main><h1>Floor</h1></main></body></html>');
  });
  await new Promise<void>((resolve) => floor.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const { url } = await dokubox.listen();
    const enrollment = await fetch(`${url}/v1/kiosk-enrollments`, { method: 'POST', headers: { authorization: `Bearer ${staffKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ boxId: 'md-foyer' }) });
    const { code } = (await enrollment.json()) as { code: string };
    const enrolled = await fetch(`${url}/kiosk/enroll`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url }, body: `code=${code}` });
    const token = /dokubox_kiosk=([^;]+)/.exec(enrolled.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const cookies = [{ name: 'dokubox_kiosk', value: token, url: `${url}/kiosk` }];
    const floorUrl = `http://127.0.0.1:${(floor.address() as AddressInfo).port}/`;
    await coldLoads(browser, floorUrl, 3, []);
    const floorRun = await coldLoads(browser, floorUrl, rounds, []);
    const start = await coldLoads(browser, `${url}/kiosk`, rounds, cookies);
    const step = await coldLoads(browser, `${url}/kiosk/de`, rounds, cookies);
    const line = (label: string, run: { ms: number[]; bytes: number }) =>
      `  ${label.padEnd(34)} median ${median(run.ms).toFixed(1)} ms  ratio ${(median(run.ms) / median(floorRun.ms)).toFixed(2)}x  ${run.bytes} bytes`;
    return [
      `kiosk cold load in Chromium (fresh context each, load event, n=${rounds})`,
      line('floor: minimal page, css, script', floorRun),
      line('first screen /kiosk (languages)', start),
      line('first step /kiosk/de', step),
    ].join('\n');
  } finally {
    await browser.close();
    floor.close();
    await dokubox.close();
  }
}
