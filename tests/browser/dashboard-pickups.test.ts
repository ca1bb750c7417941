/**
 * The dashboard's pickup pages in a real headless Chromium against the CU16
 * emulator: a clerk signs in, searches by case number, opens the pickup,
 * reads its timeline, reveals the personal data for a reason, extends the
 * deadline, issues a new code (the SMS reaches the phone) and opens the
 * compartment remotely (the emulator's door opens); a loaded pickup whose
 * ready SMS the gateway refused gets a new code there; a pickup whose door
 * did not open for loading (a jammed lock) goes into another compartment,
 * where staff load it. axe-core finds nothing
 * on the search page, the results and the pickup's page (German and
 * English); pictures are saved under test-results/dashboard/.
 */
import { once } from 'node:events';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notice } from '../support/harness.js';
import { accessibilityViolations, createKioskWorld, keyOf, screenshot, type KioskWorld } from '../support/kiosk-world.js';

const PW = 'pickup page test password';
let k: KioskWorld;
let phoneRefused = 0;

/** A German browser page with the clerk signed in, on the dashboard's home page. */
async function signedInClerk(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await k.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(`${k.base}/dashboard/sign-in`);
  await page.getByLabel('Benutzername').fill('md.clerk');
  await page.getByLabel('Passwort').fill(PW);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.waitForURL(`${k.base}/dashboard`);
  return { context, page };
}

beforeAll(async () => {
  k = await createKioskWorld();
  await k.world.dokubox.dashboard.accounts.create({ username: 'md.clerk', authority: 'magdeburg-abh', role: 'clerk', password: PW, name: 'K. Meyer' }, k.world.clock.now());
});
afterAll(async () => {
  await k?.close();
});

describe('the pickup pages', () => {
  it('find a pickup, show its story and act on it', async () => {
    const pickup = await k.notifiedPickup('md-kiosk');
    const { caseNumber } = pickup.notice;
    const { context, page } = await signedInClerk();

    // The search, linked from the home page.
    await page.getByRole('main').getByRole('link', { name: 'Abholung suchen' }).click();
    await page.waitForURL(`${k.base}/dashboard/pickups?lang=de`);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, '../dashboard/pickups-01-search');

    await page.getByRole('searchbox', { name: 'Aktenzeichen', exact: true }).fill(caseNumber);
    await page.getByRole('button', { name: 'Nach Aktenzeichen suchen' }).click();
    await page.locator('[data-results]').waitFor();
    expect(await page.getByRole('status').innerText()).toBe('1 Abholung gefunden.');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, '../dashboard/pickups-02-results');

    // The pickup's page: timeline, masked personal data.
    await page.getByRole('link', { name: new RegExp(`^Abholung ${caseNumber} `) }).click();
    await page.waitForURL(`${k.base}/dashboard/pickups/${pickup.pickupId}?lang=de`);
    const timeline = page.locator('[data-timeline]');
    expect(await timeline.innerText()).toContain('staff_loaded');
    expect(await timeline.innerText()).toContain('beladen → benachrichtigt');
    expect(await page.locator('[data-masked]').innerText()).toContain('A. A.');
    expect(await page.content()).not.toContain('Abdullahi');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, '../dashboard/pickups-03-detail-de');

    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(`${k.base}/dashboard/pickups/${pickup.pickupId}?lang=en`);
    expect(await page.getByRole('heading', { level: 2, name: 'Timeline' }).count()).toBe(1);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, '../dashboard/pickups-04-detail-en');
    await page.getByRole('link', { name: 'Deutsch' }).click();
    await page.waitForURL(`${k.base}/dashboard/pickups/${pickup.pickupId}?lang=de`);

    // Reveal for a reason: the data in this response only.
    await page.locator('#reason-reveal').fill('Antragstellerin am Schalter, Ausweis geprüft');
    await page.getByRole('button', { name: 'Persönliche Daten anzeigen' }).click();
    await page.locator('[data-revealed]').waitFor();
    expect(await page.locator('[data-revealed]').innerText()).toContain('Abdullahi');
    expect(await page.locator('[data-revealed]').innerText()).toContain(pickup.notice.mobile);
    await screenshot(page, '../dashboard/pickups-05-revealed');
    await page.goto(`${k.base}/dashboard/pickups/${pickup.pickupId}?lang=de`);
    expect(await page.content()).not.toContain('Abdullahi');
    expect(await page.locator('[data-audit]').innerText()).toContain('personal_data_revealed');

    // Extend the deadline by 2 working days.
    const before = (await k.world.dokubox.store.get(pickup.pickupId))!.deadline!;
    await page.locator('#f-extend #workingDays').fill('2');
    await page.locator('#reason-extend').fill('Antragstellerin bis Mittwoch verreist');
    await page.getByRole('button', { name: 'Frist verlängern' }).click();
    await page.locator('[data-done="extended"]').waitFor();
    expect((await k.world.dokubox.store.get(pickup.pickupId))!.deadline!).toBeGreaterThan(before);

    // A new code: the SMS with it reaches the phone.
    const sent = k.phones.inbox.list(pickup.notice.mobile).length;
    await page.locator('#reason-code').fill('SMS ging verloren');
    await page.getByRole('button', { name: 'Neuen Code per SMS senden' }).click();
    await page.locator('[data-done="code"]').waitFor();
    await k.world.dokubox.events.drain();
    const messages = await k.phones.inbox.waitFor(pickup.notice.mobile, sent + 1);
    const newCode = /\b(\d{6})\b/.exec(messages.at(-1)!.text)?.[1];
    expect(newCode).toBeDefined();
    expect(newCode).not.toBe(pickup.code);

    // Remote opening for a reason: the emulator's door opens.
    const emulator = k.emulators['md-kiosk'];
    expect(emulator.door(pickup.compartment)).toBe('closed');
    await page.locator('#reason-open').fill('Dokument zurück an den Schalter');
    await page.getByRole('button', { name: `Fach ${pickup.compartment} aus der Ferne öffnen` }).click();
    await page.locator('[data-done="opened"]').waitFor();
    expect(emulator.door(pickup.compartment)).toBe('open');
    const audit = await page.locator('[data-audit]').innerText();
    for (const action of ['personal_data_revealed', 'deadline_extended', 'code_issued', 'compartment_opened']) expect(audit).toContain(action);
    expect(audit).toContain('clerk:md.clerk');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, '../dashboard/pickups-06-actions-done');
    emulator.closeDoor(pickup.compartment);
    await context.close();
  });

  it('offer a new code for a loaded pickup whose ready SMS the gateway refused, and the new code makes it notified', async () => {
    phoneRefused += 1;
    const mobile = `+49151${String(49_000_000 + phoneRefused)}`;
    // seven.io's code 202: the recipient number is refused; the ready SMS fails for good.
    k.phones.seven.rule(mobile, { kind: 'reject', code: '202' });
    const pickup = await k.loadedPickup('md-kiosk', { mobile });
    await k.untilSms(async () => (await k.world.dokubox.store.get(pickup.pickupId))?.smsFailed === true);
    expect((await k.world.dokubox.store.get(pickup.pickupId))?.state).toBe('loaded');

    const { context, page } = await signedInClerk();
    await page.goto(`${k.base}/dashboard/pickups/${pickup.pickupId}?lang=de`);
    const send = page.getByRole('button', { name: 'Neuen Code per SMS senden' });
    expect(await send.count()).toBe(1);
    // The report of the failed SMS in the page's language, not as its wire name.
    expect(await page.locator('[data-reports]').innerText()).toContain('SMS fehlgeschlagen');
    expect(await page.locator('[data-reports]').innerText()).not.toContain('smsFailed');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, '../dashboard/pickups-07-loaded-sms-refused');

    // The number works again (the applicant's phone was fixed): the new code's SMS gets through.
    k.phones.seven.rule(mobile, { kind: 'accept' });
    await page.locator('#reason-code').fill('SMS wurde abgelehnt, Nummer geprüft');
    await send.click();
    await page.locator('[data-done="code"]').waitFor();
    await k.world.dokubox.events.drain();
    const [message] = await k.phones.inbox.waitFor(mobile, 1);
    expect(/\b\d{6}\b/.test(message!.text)).toBe(true);
    await k.untilSms(async () => (await k.world.dokubox.store.get(pickup.pickupId))?.state === 'notified');
    await context.close();
  });

  it('put the documents of a pickup whose door did not open for loading into another compartment, where staff load them', async () => {
    const box = 'md-kiosk';
    const emulator = k.emulators[box];
    const input = notice({ authority: 'magdeburg-abh', boxId: box, mobile: '+4915150000001' });
    const created = await k.api('POST', '/v1/notices', keyOf('case-system', box), input);
    const { pickup } = (await created.json()) as { pickup: { id: string; compartment: string } };
    const serialNumber = input.documents[0]!.serialNumber;
    // The lock of its compartment is jammed: staff scan the document, the door stays shut, the pickup is a fault.
    emulator.jamLock(pickup.compartment);
    const unlocked = once(emulator, 'unlock');
    const loading = k.api('POST', `/v1/boxes/${box}/loadings`, keyOf('staff', box), { serialNumber });
    await unlocked;
    k.world.clock.advance(5000);
    expect((await loading).status).toBe(409);
    await k.world.dokubox.lockers.lifecycles.get(box)!.settled();
    expect((await k.world.dokubox.store.get(pickup.id))?.state).toBe('fault');

    const { context, page } = await signedInClerk();
    await page.goto(`${k.base}/dashboard/pickups/${pickup.id}?lang=de`);
    const move = page.getByRole('button', { name: 'Dokumente in ein anderes Fach legen' });
    expect(await move.count()).toBe(1);
    expect(await page.locator('#f-reassign').innerText()).toContain(`Fach ${pickup.compartment} ist ausgefallen, bevor die Dokumente hineinkamen.`);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, '../dashboard/pickups-08-fault-at-loading');

    await page.locator('#reason-reassign').fill('Schloss klemmt beim Einlegen');
    await move.click();
    await page.locator('[data-done="reassigned"]').waitFor();
    const moved = await k.world.dokubox.store.get(pickup.id);
    expect(moved?.state).toBe('reserved');
    expect(moved?.compartment).not.toBe(pickup.compartment);
    expect(await page.locator('.facts').first().innerText()).toContain(moved!.compartment!);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, '../dashboard/pickups-09-another-compartment');

    // The same scan now opens the new compartment: staff put the documents in and close it.
    const again = await k.api('POST', `/v1/boxes/${box}/loadings`, keyOf('staff', box), { serialNumber });
    expect(again.status).toBe(200);
    emulator.insertItem(moved!.compartment!);
    const loaded = k.untilState(box, pickup.id, 'loaded');
    emulator.closeDoor(moved!.compartment!);
    await loaded;
    const failed = (await k.world.dokubox.store.listCompartments(k.world.dokubox.boxes.get(box)!)).find((c) => c.id === pickup.compartment);
    expect(failed?.state).toBe('defective');
    await context.close();
  });
});
