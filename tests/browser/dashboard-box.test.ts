/**
 * The office's box page in a real headless Chromium against the CU16
 * emulator: a clerk signs in, opens the box, and sees a compartment change
 * colour live (server-sent events) when staff load it at the box; an alarm
 * appears and is acknowledged; axe-core finds nothing; pictures are saved
 * under test-results/dashboard/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, createKioskWorld, keyOf, KIOSK_BOXES, screenshot, type KioskWorld } from '../support/kiosk-world.js';
import { notice } from '../support/harness.js';

const PW = 'box page test password';
let k: KioskWorld;

beforeAll(async () => {
  k = await createKioskWorld();
  await k.world.dokubox.dashboard.accounts.create({ username: 'md.clerk', authority: 'magdeburg-abh', role: 'clerk', password: PW, name: 'K. Meyer' }, k.world.clock.now());
  await k.world.dokubox.dashboard.accounts.create({ username: 'bo.clerk', authority: 'bochum-abh', role: 'clerk', password: PW }, k.world.clock.now());
});
afterAll(async () => {
  await k?.close();
});

async function signIn(username: string) {
  const context = await k.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(`${k.base}/dashboard/sign-in`);
  await page.getByLabel('Benutzername').fill(username);
  await page.getByLabel('Passwort').fill(PW);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.waitForURL(`${k.base}/dashboard`);
  return page;
}

describe('the box page', () => {
  it('turns a compartment from reserved to loaded live while staff load it at the box', async () => {
    const page = await signIn('md.clerk');
    await page.getByRole('link', { name: 'Dokumentenausgabebox Test Magdeburg' }).click();
    await page.waitForURL(`${k.base}/dashboard/boxes/md-kiosk`);
    await page.locator('[data-live][data-connected="true"]').waitFor();
    await screenshot(page, '../dashboard/box-01-empty');
    expect(await accessibilityViolations(page)).toEqual([]);

    // The case system sends a notice: a compartment is reserved, and the page shows it without reloading.
    const input = notice({ authority: KIOSK_BOXES['md-kiosk'].authority, boxId: 'md-kiosk', mobile: '+4915150000009' });
    const created = await k.api('POST', '/v1/notices', keyOf('case-system', 'md-kiosk'), input);
    const { pickup } = (await created.json()) as { pickup: { id: string; compartment: string } };
    const cell = page.locator(`#c-${pickup.compartment}`);
    await expect.poll(() => cell.getAttribute('data-view')).toBe('reserved');

    // Staff load it at the box: the door opens, the document goes in, the door closes.
    expect((await k.api('POST', '/v1/boxes/md-kiosk/loadings', keyOf('staff', 'md-kiosk'), { serialNumber: input.documents[0]!.serialNumber })).status).toBe(200);
    k.emulators['md-kiosk'].insertItem(pickup.compartment);
    k.emulators['md-kiosk'].closeDoor(pickup.compartment);
    await page.locator(`#c-${pickup.compartment}[data-view="loaded"]`).waitFor();
    expect(await cell.locator('[data-state]').innerText()).toBe('beladen');
    await screenshot(page, '../dashboard/box-02-loaded-live');

    // A door opened without a command raises an alarm; it appears, and the clerk acknowledges it.
    k.emulators['md-kiosk'].forceOpen('06');
    await page.locator('[data-alarms] li', { hasText: 'door_opened_without_command' }).first().waitFor();
    await page.reload();
    const alarm = page.locator('[data-alarms] li', { hasText: 'door_opened_without_command' }).first();
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, '../dashboard/box-03-alarm');
    await alarm.getByRole('button', { name: 'Quittieren' }).click();
    await page.waitForURL(`${k.base}/dashboard/boxes/md-kiosk`);
    expect(await page.locator('[data-alarms] li', { hasText: 'door_opened_without_command' }).count()).toBe(0);
    k.emulators['md-kiosk'].closeDoor('06');
    await page.context().close();
  });

  it('shows a clerk of another authority nothing of this box', async () => {
    const page = await signIn('bo.clerk');
    expect(await page.getByRole('link', { name: 'Dokumentenausgabebox Test Magdeburg' }).count()).toBe(0);
    const response = await page.goto(`${k.base}/dashboard/boxes/md-kiosk`);
    expect(response?.status()).toBe(404);
    await page.context().close();
  });
});
