/**
 * Staff mode at the box's touchscreen, in a real headless Chromium against
 * the CU16 emulator: sign-in with staff number (or badge) and PIN, loading a
 * compartment by a scanned document number, emptying an expired compartment,
 * reporting a compartment defective; German and Arabic screens checked with
 * axe-core and saved as pictures.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScreen, createKioskWorld, keyOf, KIOSK_BOXES, STAFF, type KioskWorld } from '../support/kiosk-world.js';
import { notice } from '../support/harness.js';

let k: KioskWorld;

beforeAll(async () => {
  k = await createKioskWorld();
});
afterAll(async () => {
  await k?.close();
});

async function signIn(page: Page, language: 'de' | 'ar', pin = STAFF.pin): Promise<void> {
  await page.goto(`${k.base}/kiosk/${language}/staff`);
  // A badge scanner types the number and Enter, which moves on to the PIN.
  await page.locator('#staff-number').fill(STAFF.number);
  await page.locator('#staff-number').press('Enter');
  await page.keyboard.type(pin);
  await page.keyboard.press('Enter');
}

describe('staff sign-in at the kiosk', () => {
  it('refuses a wrong PIN with a message and admits the right one, in German and Arabic', async () => {
    const { page } = await k.kiosk('md-kiosk');
    await page.goto(`${k.base}/kiosk/de/staff`);
    await checkScreen(page, 'staff-de-01-sign-in');
    await signIn(page, 'de', '999999');
    await page.getByText('Nummer oder PIN ist falsch.').waitFor();
    await checkScreen(page, 'staff-de-02-sign-in-failed');
    await signIn(page, 'de');
    await page.getByRole('heading', { name: 'Personalmodus' }).waitFor();
    await checkScreen(page, 'staff-de-03-menu');
    await page.goto(`${k.base}/kiosk/ar/staff`);
    expect(await page.locator('html').getAttribute('dir')).toBe('rtl');
    await checkScreen(page, 'staff-ar-03-menu');
    await page.locator('button[data-action="signout"]').click();
    await page.waitForURL(`${k.base}/kiosk`);
    await page.goto(`${k.base}/kiosk/ar/staff`);
    await page.locator('#staff-pin').waitFor();
    await checkScreen(page, 'staff-ar-01-sign-in');
    await page.context().close();
  });

  it('staff actions need a staff session of this kiosk', async () => {
    const { page } = await k.kiosk('md-kiosk');
    const status = await page.evaluate(async () => (await fetch('/kiosk/api/staff/release', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
    expect(status).toBe(401);
    await page.context().close();
  });
});

describe('loading and emptying at the box', () => {
  it('loads by a scanned document number: the reserved compartment opens, closing it loads it', async () => {
    const input = notice({ authority: KIOSK_BOXES['md-kiosk'].authority, boxId: 'md-kiosk', mobile: '+4915150000001' });
    const created = await k.api('POST', '/v1/notices', keyOf('case-system', 'md-kiosk'), input);
    const { pickup } = (await created.json()) as { pickup: { id: string; compartment: string } };
    const { page } = await k.kiosk('md-kiosk');
    await signIn(page, 'de');
    await page.getByRole('heading', { name: 'Personalmodus' }).waitFor();
    // The scanner types the number and Enter into the focused field: once the page's script has focused it (on a
    // loaded machine the heading can be there before the script ran, and keys typed then go nowhere).
    await page.locator('#load-serial:focus').waitFor();
    await page.keyboard.type(input.documents[0]!.serialNumber);
    await page.keyboard.press('Enter');
    await page.getByText(`Fach ${pickup.compartment} ist offen.`).waitFor();
    expect(k.emulators['md-kiosk'].door(pickup.compartment)).toBe('open');
    await checkScreen(page, 'staff-de-04-loading-open');
    k.emulators['md-kiosk'].insertItem(pickup.compartment);
    k.emulators['md-kiosk'].closeDoor(pickup.compartment);
    await page.getByText(`Fach ${pickup.compartment} ist beladen.`).waitFor();
    await checkScreen(page, 'staff-de-05-loaded');
    expect((await k.world.dokubox.store.get(pickup.id))?.state).toMatch(/loaded|notified/);
    await page.keyboard.type('X00000000');
    await page.keyboard.press('Enter');
    await page.getByText('Zu dieser Dokumentennummer gibt es an diesem Automaten keine offene Abholung.').waitFor();
    await page.context().close();
  });

  it('after the door closes, waits until the middleware has handled the closing before it says the compartment is loaded', async () => {
    const input = notice({ authority: KIOSK_BOXES['md-kiosk'].authority, boxId: 'md-kiosk', mobile: '+4915150000002' });
    const created = await k.api('POST', '/v1/notices', keyOf('case-system', 'md-kiosk'), input);
    const { pickup } = (await created.json()) as { pickup: { id: string; compartment: string } };
    const { page } = await k.kiosk('md-kiosk');
    // The board reports the closed door before the middleware has loaded the pickup: the screen's first poll
    // after the closing is made to land in that moment (what the server answers then, settling included).
    let inTheMoment = 0;
    await page.route((url) => url.pathname === `/kiosk/api/staff/compartments/${pickup.compartment}`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as Record<string, unknown>;
      if (body.door !== 'closed' || inTheMoment > 0) return route.fulfill({ response, json: body });
      inTheMoment += 1;
      return route.fulfill({ response, json: { ...body, pickupState: 'reserved', state: 'reserved', settling: true, message: '' } });
    });
    await signIn(page, 'de');
    await page.getByRole('heading', { name: 'Personalmodus' }).waitFor();
    await page.locator('#load-serial:focus').waitFor();
    await page.keyboard.type(input.documents[0]!.serialNumber);
    await page.keyboard.press('Enter');
    await page.getByText(`Fach ${pickup.compartment} ist offen.`).waitFor();
    k.emulators['md-kiosk'].insertItem(pickup.compartment);
    k.emulators['md-kiosk'].closeDoor(pickup.compartment);
    await page.getByText(`Fach ${pickup.compartment} ist beladen.`).waitFor();
    expect(inTheMoment).toBe(1);
    await page.context().close();
  });

  it('answers settling while a door operation of the compartment is being handled, on any instance', async () => {
    const { context } = await k.kiosk('md-kiosk');
    const page = await context.newPage();
    await signIn(page, 'de');
    await page.getByRole('heading', { name: 'Personalmodus' }).waitFor();
    const status = async (): Promise<Record<string, unknown>> => (await (await page.request.get(`${k.base}/kiosk/api/staff/compartments/06?lang=de`)).json()) as Record<string, unknown>;
    expect(await status()).toMatchObject({ compartment: '06', settling: false });
    await k.world.dokubox.service.recordDoorOperation('md-kiosk', '06', { purpose: 'loading', pickupId: null, actor: 'staff:test' });
    try {
      expect(await status()).toMatchObject({ compartment: '06', settling: true });
    } finally {
      await k.world.dokubox.service.recordDoorOperation('md-kiosk', '06', undefined);
    }
    expect(await status()).toMatchObject({ settling: false });
    await context.close();
  });

  it('empties an expired compartment: listed, opened, taken out, confirmed; the pickup is returned', async () => {
    const pickup = await k.notifiedPickup('md-kiosk');
    const before = k.world.clock.now();
    k.world.clock.advance(14 * 86_400_000);
    try {
      expect(await k.world.dokubox.service.expireDue()).toBeGreaterThanOrEqual(1);
      const { page } = await k.kiosk('md-kiosk');
      await signIn(page, 'de');
      const row = page.locator(`li[data-compartment="${pickup.compartment}"]`);
      await row.getByText('Frist abgelaufen').waitFor();
      // Confirming comes after opening: until then the button is not there.
      expect(await row.getByRole('button', { name: `Fach ${pickup.compartment} ist leer` }).isVisible()).toBe(false);
      await checkScreen(page, 'staff-de-06-to-empty');
      await row.getByRole('button', { name: `Fach ${pickup.compartment} öffnen` }).click();
      await page.getByText(`Fach ${pickup.compartment} ist offen. Nehmen Sie alles heraus`).waitFor();
      k.emulators['md-kiosk'].takeItem(pickup.compartment);
      const returned = k.untilState('md-kiosk', pickup.pickupId, 'returned');
      k.emulators['md-kiosk'].closeDoor(pickup.compartment);
      await returned;
      await row.getByRole('button', { name: `Fach ${pickup.compartment} ist leer` }).click();
      await page.getByText(`Fach ${pickup.compartment} ist geleert.`).waitFor();
      await checkScreen(page, 'staff-de-07-emptied');
      await page.context().close();
    } finally {
      k.world.clock.set(before);
    }
  });

  it('reports a compartment defective; it no longer opens', async () => {
    const { page } = await k.kiosk('bo-kiosk');
    await signIn(page, 'de');
    await page.getByLabel('Fachnummer').fill('06');
    await page.getByRole('button', { name: 'Als defekt melden' }).click();
    await page.getByText('Fach 06 ist als defekt gemeldet.').waitFor();
    expect(await k.world.dokubox.service.isDefective('bo-kiosk', '06')).toBe(true);
    await page.getByLabel('Fachnummer').fill('99');
    await page.getByRole('button', { name: 'Als defekt melden' }).click();
    await page.getByText('Dieses Fach gibt es an diesem Automaten nicht.').waitFor();
    await page.context().close();
  });
});
