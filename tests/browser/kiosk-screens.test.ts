/**
 * Every screen of the touchscreen, for each policy, in German and in Arabic,
 * in the normal and the low (wheelchair) layout: axe-core with the WCAG 2.1
 * A and AA rules finds nothing, and each is saved as a picture. Also: the
 * whole pickup works with the keyboard alone.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, createKioskWorld, screenshot, type KioskBox, type KioskWorld } from '../support/kiosk-world.js';

let k: KioskWorld;

beforeAll(async () => {
  k = await createKioskWorld();
});
afterAll(async () => {
  await k?.close();
});

/** Shows one screen of the page (as the script would) and returns its name. */
async function showOnly(page: Page, screen: string): Promise<void> {
  await page.evaluate((name) => {
    for (const section of Array.from(document.querySelectorAll<HTMLElement>('main section[data-screen]'))) section.hidden = section.dataset.screen !== name;
  }, screen);
}

describe('every screen', () => {
  for (const box of ['md-kiosk', 'bo-kiosk', 'do-kiosk'] as KioskBox[]) {
    it(`of ${box} passes axe-core (WCAG 2.1 AA) in German and Arabic, normal and low layout`, async () => {
      const { page } = await k.kiosk(box);
      const problems: string[] = [];
      for (const language of ['de', 'ar']) {
        await page.goto(`${k.base}/kiosk/${language}`);
        const screens = await page.locator('main section[data-screen]').evaluateAll((sections) => sections.map((s) => (s as HTMLElement).dataset.screen ?? ''));
        expect(screens.length).toBeGreaterThan(8);
        // Pictures of each screen, then axe-core over all screens at once (every section shown: one run checks them all).
        for (const screen of screens) {
          await showOnly(page, screen);
          await screenshot(page, `screens-${box}-${language}-${screen}`);
        }
        for (const low of [false, true]) {
          if (low) await page.locator('#low-layout').click();
          expect(await page.locator('#low-layout').getAttribute('aria-pressed')).toBe(String(low));
          await page.evaluate(() => {
            for (const section of Array.from(document.querySelectorAll<HTMLElement>('main section[data-screen]'))) section.hidden = false;
          });
          problems.push(...(await accessibilityViolations(page)).map((v) => `${box}-${language}${low ? '-low' : ''}: ${v}`));
        }
        await page.locator('#low-layout').click();
      }
      expect(problems).toEqual([]);
      await page.context().close();
    }, 90_000);
  }
});

describe('the enrollment page', () => {
  it('passes axe-core, also with an error shown', async () => {
    const context = await k.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${k.base}/kiosk/enroll`);
    await screenshot(page, 'screens-enroll');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.locator('#enroll-code').fill('WRONG-CODE1');
    await page.locator('button[type="submit"]').click();
    await page.locator('p.alert').waitFor();
    await screenshot(page, 'screens-enroll-failed');
    expect(await accessibilityViolations(page)).toEqual([]);
    await context.close();
  });
});

describe('keyboard only', () => {
  it('chooses the language, enters everything and opens the compartment without a pointer', async () => {
    const pickup = await k.notifiedPickup('md-kiosk', { person: { familyName: 'Petrenko', givenNames: 'Iryna', dateOfBirth: '1979-10-05' } });
    const { page } = await k.kiosk('md-kiosk');
    // Tab through the header to the language links; the first link is German.
    for (let i = 0; i < 10; i += 1) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.getAttribute('hreflang'))) === 'uk') break;
    }
    await page.keyboard.press('Enter');
    await page.waitForURL(`${k.base}/kiosk/uk`);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('in-mobile');
    for (const value of [pickup.notice.mobile, pickup.code, '05.10.1979']) {
      await page.keyboard.type(value);
      await page.keyboard.press('Enter');
    }
    await page.locator('main section[data-screen="open"]:not([hidden])').waitFor();
    const collected = k.untilState('md-kiosk', pickup.pickupId, 'collected');
    k.emulators['md-kiosk'].takeItem(pickup.compartment);
    k.emulators['md-kiosk'].closeDoor(pickup.compartment);
    await collected;
    await page.context().close();
  });
});
