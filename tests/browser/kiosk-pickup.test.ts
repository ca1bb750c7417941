/**
 * An applicant at the box's touchscreen, in a real headless Chromium against
 * the CU16 emulator over TCP: each authority's policy from the first screen
 * to `collected`, in German and in Arabic (right to left), every screen
 * checked with axe-core (WCAG 2.1 AA) and saved as a picture under
 * test-results/kiosk/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScreen, createKioskWorld, type KioskBox, type KioskWorld } from '../support/kiosk-world.js';

let k: KioskWorld;

beforeAll(async () => {
  k = await createKioskWorld();
});
afterAll(async () => {
  await k?.close();
});

/** The screen now shown (its data-screen name). */
export async function currentScreen(page: Page): Promise<string> {
  return (await page.locator('main section[data-screen]:not([hidden])').getAttribute('data-screen')) ?? '';
}

/** Fills the visible step's field and presses its main button, whatever the language. */
async function enter(page: Page, value: string): Promise<void> {
  const section = page.locator('main section[data-screen]:not([hidden])');
  await section.locator('input').fill(value);
  await section.locator('button[data-action="next"]').click();
}

async function choose(page: Page, answer: 'yes' | 'no'): Promise<void> {
  await page.locator(`main section[data-screen]:not([hidden]) button[data-action="${answer}"]`).click();
}

async function until(page: Page, screen: string): Promise<void> {
  await page.locator(`main section[data-screen="${screen}"]:not([hidden])`).waitFor();
}

/** Takes the document out of the open compartment (and, at Bochum, puts the old one in) and closes the door. */
async function takeAndClose(box: KioskBox, pickupId: string, compartment: string, oldDocumentInside = false): Promise<void> {
  const emulator = k.emulators[box];
  emulator.takeItem(compartment);
  if (oldDocumentInside) emulator.insertItem(compartment);
  const collected = k.untilState(box, pickupId, 'collected');
  emulator.closeDoor(compartment);
  await collected;
}

async function start(box: KioskBox, language: 'de' | 'ar', name: string): Promise<{ page: Page; blocked: string[] }> {
  const { page, blocked } = await k.kiosk(box);
  await checkScreen(page, `${name}-01-languages`);
  await page.getByRole('link', { name: language === 'de' ? 'Deutsch' : 'العربية' }).click();
  await expect.poll(() => page.locator('html').getAttribute('dir')).toBe(language === 'ar' ? 'rtl' : 'ltr');
  expect(await page.locator('html').getAttribute('lang')).toBe(language);
  return { page, blocked };
}

describe('Magdeburg: mobile number, code, date of birth; the old document into the return slot', () => {
  for (const language of ['de', 'ar'] as const) {
    it(`collects in ${language === 'de' ? 'German' : 'Arabic, right to left,'} from the language screen to the done screen`, async () => {
      const name = `magdeburg-${language}`;
      const pickup = await k.notifiedPickup('md-kiosk', { person: { familyName: 'Abdullahi', givenNames: 'Amina', dateOfBirth: '1991-04-17' } });
      const { page, blocked } = await start('md-kiosk', language, name);
      await checkScreen(page, `${name}-02-mobile`);
      await enter(page, pickup.notice.mobile.replace('+49', '0'));
      await checkScreen(page, `${name}-03-code`);
      await enter(page, pickup.code);
      await checkScreen(page, `${name}-04-date-of-birth`);
      await enter(page, '17.04.1991');
      await until(page, 'open');
      expect(await page.locator('[data-text="compartment"]').innerText()).toBe(pickup.compartment);
      expect(k.emulators['md-kiosk'].door(pickup.compartment)).toBe('open');
      await checkScreen(page, `${name}-05-open`);
      await takeAndClose('md-kiosk', pickup.pickupId, pickup.compartment);
      await until(page, 'old-document');
      await checkScreen(page, `${name}-06-old-document`);
      await page.locator('button[data-action="done"]').click();
      await until(page, 'done');
      await checkScreen(page, `${name}-07-done`);
      expect((await k.world.dokubox.store.get(pickup.pickupId))?.state).toBe('collected');
      expect(blocked).toEqual([]);
      await page.context().close();
    });
  }
});

describe('Bochum: mobile number and code; the old document goes into the compartment', () => {
  for (const language of ['de', 'ar'] as const) {
    it(`collects in ${language === 'de' ? 'German' : 'Arabic'} and leaves the compartment for staff to empty`, async () => {
      const name = `bochum-${language}`;
      const pickup = await k.notifiedPickup('bo-kiosk');
      const { page } = await start('bo-kiosk', language, name);
      await enter(page, pickup.notice.mobile);
      await checkScreen(page, `${name}-02-code`);
      await enter(page, pickup.code);
      await until(page, 'open');
      await checkScreen(page, `${name}-03-open`);
      await takeAndClose('bo-kiosk', pickup.pickupId, pickup.compartment, true);
      await until(page, 'done');
      await checkScreen(page, `${name}-04-done`);
      const compartments = await k.world.dokubox.store.listCompartments(k.world.dokubox.boxes.get('bo-kiosk')!);
      expect(compartments.find((c) => c.id === pickup.compartment)?.state).toBe('retrieval');
      await page.context().close();
    });
  }
});

describe('Dortmund: mobile number, code, PIN letter, then date of birth (first card) or the old card’s CAN (renewal)', () => {
  it('collects a first card in German with the date of birth and skips the destruction slot', async () => {
    const pickup = await k.notifiedPickup('do-kiosk', { person: { familyName: 'Kovalenko', givenNames: 'Olena', dateOfBirth: '1985-11-02' } });
    const { page } = await start('do-kiosk', 'de', 'dortmund-de');
    await enter(page, pickup.notice.mobile);
    await enter(page, pickup.code);
    await checkScreen(page, 'dortmund-de-03-pin-letter');
    await choose(page, 'yes');
    await checkScreen(page, 'dortmund-de-04-old-card');
    await choose(page, 'no');
    expect(await currentScreen(page)).toBe('step-dateOfBirth');
    await enter(page, '02.11.1985');
    await until(page, 'open');
    await takeAndClose('do-kiosk', pickup.pickupId, pickup.compartment);
    await until(page, 'done');
    await checkScreen(page, 'dortmund-de-05-done');
    await page.context().close();
  });

  it('collects a renewal in Arabic with the old card’s CAN, then asks for the old card in the destruction slot', async () => {
    const pickup = await k.notifiedPickup('do-kiosk', { renewal: true, oldCardCan: '314159' });
    const { page } = await start('do-kiosk', 'ar', 'dortmund-ar');
    await enter(page, pickup.notice.mobile);
    await enter(page, pickup.code);
    await choose(page, 'yes');
    await choose(page, 'yes');
    expect(await currentScreen(page)).toBe('step-can');
    await checkScreen(page, 'dortmund-ar-04-can');
    await enter(page, '314159');
    await until(page, 'open');
    await checkScreen(page, 'dortmund-ar-05-open');
    await takeAndClose('do-kiosk', pickup.pickupId, pickup.compartment);
    await until(page, 'old-document');
    await checkScreen(page, 'dortmund-ar-06-destruction-slot');
    await page.locator('button[data-action="done"]').click();
    await until(page, 'done');
    await page.context().close();
  });
});

describe('a lock board that goes silent while the door opens', () => {
  it('tells the applicant that the box could not confirm the opening, and ends the pickup when the board answers again', async () => {
    const pickup = await k.notifiedPickup('bo-kiosk');
    const { page } = await start('bo-kiosk', 'de', 'bochum-silent-board');
    const emulator = k.emulators['bo-kiosk'];
    const lifecycle = k.world.dokubox.lockers.lifecycles.get('bo-kiosk')!;
    const offline = new Promise<void>((resolve) => {
      const listener = (event: { type: string }): void => {
        if (event.type !== 'board.offline') return;
        lifecycle.adapter.off('event', listener);
        resolve();
      };
      lifecycle.adapter.on('event', listener);
    });
    // The unlock reaches the board (the door springs open); after it the board answers nothing.
    emulator.once('unlock', () => emulator.silenceBoard('gw1', 0));
    await enter(page, pickup.notice.mobile);
    await enter(page, pickup.code);
    await offline;
    // The door-open wait runs out (the test world's clock drives it).
    k.world.clock.advance(5000);
    await until(page, 'unconfirmed');
    await checkScreen(page, 'bochum-silent-board-unconfirmed');
    expect(await page.locator('main section[data-screen="unconfirmed"]').innerText()).toContain('Wenn sich ein Fach geöffnet hat');
    expect(emulator.door(pickup.compartment)).toBe('open');
    expect((await k.world.dokubox.store.get(pickup.pickupId))?.state).toBe('notified');

    // The board answers again: the box watches the open door, and taking the document out ends the pickup.
    const back = k.untilState('bo-kiosk', pickup.pickupId, 'collected');
    emulator.silenceBoard('gw1', 0, false);
    emulator.takeItem(pickup.compartment);
    emulator.insertItem(pickup.compartment);
    emulator.closeDoor(pickup.compartment);
    await back;
    await page.context().close();
  });
});
