/**
 * What goes wrong at the box, in a real headless Chromium against the CU16
 * emulator: wrong entries, the kiosk's pause and its release, a blocked code
 * and the staff's new code, a partly unknown date of birth, a missing PIN
 * letter, closing time and a box that is offline, and the reset after
 * inactivity. Every screen is checked with axe-core and saved as a picture.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScreen, createKioskWorld, keyOf, STAFF, type KioskBox, type KioskWorld } from '../support/kiosk-world.js';

let k: KioskWorld;

beforeAll(async () => {
  k = await createKioskWorld();
});
afterAll(async () => {
  await k?.close();
});

const visible = (page: Page) => page.locator('main section[data-screen]:not([hidden])');

async function enter(page: Page, value: string): Promise<void> {
  await visible(page).locator('input').fill(value);
  await visible(page).locator('button[data-action="next"]').click();
}

async function until(page: Page, screen: string): Promise<void> {
  await page.locator(`main section[data-screen="${screen}"]:not([hidden])`).waitFor();
}

async function open(box: KioskBox, language: 'de' | 'ar' = 'de'): Promise<Page> {
  const { page } = await k.kiosk(box);
  await page.goto(`${k.base}/kiosk/${language}`);
  return page;
}

/** Magdeburg's three entries, then the answer screen. */
async function attempt(page: Page, mobile: string, code: string, dateOfBirth: string): Promise<void> {
  await enter(page, mobile);
  await enter(page, code);
  await enter(page, dateOfBirth);
}

async function alarms(box: KioskBox): Promise<string[]> {
  return (await k.world.dokubox.alarms.list(box)).map((a) => a.kind);
}

describe('wrong entries', () => {
  it('a wrong code and a wrong date of birth get the same answer, with the attempts left', async () => {
    const pickup = await k.notifiedPickup('md-kiosk', { person: { familyName: 'Nguyen', givenNames: 'Lan', dateOfBirth: '1979-02-28' } });
    const page = await open('md-kiosk');
    const wrongCode = pickup.code === '000000' ? '111111' : '000000';
    await attempt(page, pickup.notice.mobile, wrongCode, '28.02.1979');
    await until(page, 'failed');
    const first = await visible(page).innerText();
    await checkScreen(page, 'limits-01-wrong-code');
    await visible(page).locator('button[data-action="retry"]').click();
    expect(await visible(page).locator('input').inputValue()).toBe('');
    await attempt(page, pickup.notice.mobile, pickup.code, '01.03.1979');
    await until(page, 'failed');
    const second = await visible(page).innerText();
    // Same message; only the count of attempts left differs.
    expect(second.replace(/\d+/g, '#')).toBe(first.replace(/\d+/g, '#'));
    expect(second).toContain('3');
    expect(k.emulators['md-kiosk'].door(pickup.compartment)).toBe('closed');
    expect((await k.world.dokubox.store.get(pickup.pickupId))?.state).toBe('notified');
    await page.context().close();
  });

  it('a date of birth known only by its year opens with XX.XX and the year', async () => {
    const pickup = await k.notifiedPickup('md-kiosk', { person: { familyName: 'Haidari', givenNames: 'Karim', dateOfBirth: '1990' } });
    const page = await open('md-kiosk');
    await enter(page, pickup.notice.mobile);
    await enter(page, pickup.code);
    // Typed on the on-screen keypad: X X X X 1 9 9 0 becomes XX.XX.1990.
    for (const key of ['X', 'X', 'X', 'X', '1', '9', '9', '0']) await visible(page).locator(`button[data-key="${key}"]`).click();
    expect(await visible(page).locator('input').inputValue()).toBe('XX.XX.1990');
    await visible(page).locator('button[data-action="next"]').click();
    await until(page, 'open');
    k.emulators['md-kiosk'].takeItem(pickup.compartment);
    const collected = k.untilState('md-kiosk', pickup.pickupId, 'collected');
    k.emulators['md-kiosk'].closeDoor(pickup.compartment);
    await collected;
    await page.context().close();
  });
});

describe('attempt limits', () => {
  it('pauses the kiosk after five failures, tells staff, and works again when staff end the pause', async () => {
    const pickup = await k.notifiedPickup('md-kiosk', { person: { familyName: 'Osei', givenNames: 'Kofi', dateOfBirth: '1988-08-08' } });
    const page = await open('md-kiosk');
    for (let i = 0; i < 5; i += 1) {
      await attempt(page, '+4915199999999', String(100000 + i), '01.01.1970');
      await until(page, i < 4 ? 'failed' : 'paused');
      if (i < 4) await visible(page).locator('button[data-action="retry"]').click();
    }
    await checkScreen(page, 'limits-02-paused');
    expect(await alarms('md-kiosk')).toContain('kiosk_paused');
    // Even the right entries do not open while paused.
    await page.goto(`${k.base}/kiosk/de`);
    await until(page, 'paused');

    // Staff sign in at this kiosk and end the pause.
    await page.goto(`${k.base}/kiosk/de/staff`);
    await page.getByLabel('Personalnummer oder Ausweis scannen').fill(STAFF.number);
    await page.getByLabel('PIN').fill(STAFF.pin);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('button', { name: 'Sperre aufheben' }).click();
    await page.getByText('Die Sperre ist aufgehoben.').waitFor();
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.waitForURL(`${k.base}/kiosk`);
    await page.goto(`${k.base}/kiosk/de`);
    await attempt(page, pickup.notice.mobile, pickup.code, '08.08.1988');
    await until(page, 'open');
    k.emulators['md-kiosk'].takeItem(pickup.compartment);
    const collected = k.untilState('md-kiosk', pickup.pickupId, 'collected');
    k.emulators['md-kiosk'].closeDoor(pickup.compartment);
    await collected;
    await page.context().close();
  });

  it('a pause ends by itself after a minute', async () => {
    const page = await open('bo-kiosk');
    for (let i = 0; i < 5; i += 1) {
      await enter(page, '+4915199999999');
      await enter(page, String(200000 + i));
      await until(page, i < 4 ? 'failed' : 'paused');
      if (i < 4) await visible(page).locator('button[data-action="retry"]').click();
    }
    k.world.clock.advance(61_000);
    await page.goto(`${k.base}/kiosk/de`);
    await until(page, 'step-mobile');
    await page.context().close();
  });

  it('blocks a code after three wrong second factors; the new code from staff arrives by SMS and opens', async () => {
    const pickup = await k.notifiedPickup('md-kiosk', { person: { familyName: 'Ali', givenNames: 'Sara', dateOfBirth: '2001-06-30' } });
    const page = await open('md-kiosk');
    for (let i = 0; i < 3; i += 1) {
      await attempt(page, pickup.notice.mobile, pickup.code, `0${i + 1}.01.2001`);
      await until(page, 'failed');
      await visible(page).locator('button[data-action="retry"]').click();
    }
    expect(await alarms('md-kiosk')).toContain('code_blocked');
    // Blocked: the right entries fail too, and the applicant is sent to the counter.
    await attempt(page, pickup.notice.mobile, pickup.code, '30.06.2001');
    await until(page, 'failed');
    expect(await page.locator('[data-text="counter"]').isVisible()).toBe(true);
    await checkScreen(page, 'limits-03-sent-to-counter');

    // At the counter: a new code, sent by SMS.
    const reissued = await k.api('POST', `/v1/pickups/${pickup.pickupId}/code`, keyOf('staff', 'md-kiosk'));
    expect(reissued.status).toBe(200);
    await k.world.dokubox.events.drain();
    const messages = await k.phones.inbox.waitFor(pickup.notice.mobile, 2);
    const newCode = /\b(\d{6})\b/.exec(messages.at(-1)!.text)?.[1];
    expect(newCode).toBeDefined();
    expect(newCode).not.toBe(pickup.code);
    await page.goto(`${k.base}/kiosk/de`);
    await attempt(page, pickup.notice.mobile, newCode!, '30.06.2001');
    await until(page, 'open');
    k.emulators['md-kiosk'].takeItem(pickup.compartment);
    const collected = k.untilState('md-kiosk', pickup.pickupId, 'collected');
    k.emulators['md-kiosk'].closeDoor(pickup.compartment);
    await collected;
    await page.context().close();
  });
});

describe('the box cannot hand out', () => {
  it('without the PIN letter (Dortmund): a screen that says to wait for it, and nothing opens', async () => {
    const pickup = await k.notifiedPickup('do-kiosk');
    const page = await open('do-kiosk', 'ar');
    await enter(page, pickup.notice.mobile);
    await enter(page, pickup.code);
    await visible(page).locator('button[data-action="no"]').click();
    await until(page, 'pin-missing');
    await checkScreen(page, 'limits-04-pin-letter-missing-ar');
    expect(k.emulators['do-kiosk'].unlockCount(pickup.compartment)).toBe(1);
    expect((await k.world.dokubox.store.get(pickup.pickupId))?.state).toBe('notified');
    await page.context().close();
  });

  it('outside opening hours and on a public holiday: a closed screen with the next opening, and nothing opens', async () => {
    const before = k.world.clock.now();
    try {
      // Good Friday 2026 (3 April), a public holiday in Saxony-Anhalt, at noon.
      k.world.clock.set('2026-04-03T10:00:00Z');
      const page = await open('md-kiosk');
      await until(page, 'closed');
      expect(await visible(page).innerText()).toContain('Dienstag, 7. April um 08:00');
      await checkScreen(page, 'limits-05-closed-holiday');
      const answer = await page.evaluate(async () => (await fetch('/kiosk/api/pickups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: '123456', mobile: '+4915100000000', dateOfBirth: '01.01.1990' }) })).status);
      expect(answer).toBe(409);
      // A Monday evening after closing time, in Arabic.
      k.world.clock.set('2026-04-13T19:00:00Z');
      await page.goto(`${k.base}/kiosk/ar`);
      await until(page, 'closed');
      await checkScreen(page, 'limits-06-closed-evening-ar');
      await page.context().close();
    } finally {
      k.world.clock.set(before);
    }
  });

  /** Resolves at the next board event of `type` from the box's locker adapter. */
  function nextBoardEvent(box: KioskBox, type: 'board.offline' | 'board.online'): Promise<void> {
    const adapter = k.world.dokubox.lockers.lifecycles.get(box)!.adapter;
    return new Promise<void>((resolve) => {
      const listener = (event: { type: string }) => {
        if (event.type !== type) return;
        adapter.off('event', listener);
        resolve();
      };
      adapter.on('event', listener);
    });
  }

  it('when no lock board answers: an out-of-order screen, and nothing opens', async () => {
    const page = await open('bo-kiosk');
    const offline = nextBoardEvent('bo-kiosk', 'board.offline');
    await k.emulators['bo-kiosk'].dropGateway('gw1');
    await offline;
    await page.goto(`${k.base}/kiosk/de`);
    await until(page, 'offline');
    await checkScreen(page, 'limits-07-offline');
    const online = nextBoardEvent('bo-kiosk', 'board.online');
    await k.emulators['bo-kiosk'].restoreGateway('gw1');
    await online;
    await page.goto(`${k.base}/kiosk/de`);
    await until(page, 'step-mobile');
    await page.context().close();
  });

  it('when the gateway is up but its board is silent: out of order too, and the entries open nothing', async () => {
    const pickup = await k.notifiedPickup('bo-kiosk');
    const page = await open('bo-kiosk');
    const offline = nextBoardEvent('bo-kiosk', 'board.offline');
    k.emulators['bo-kiosk'].silenceBoard('gw1', 0);
    await offline;
    const answer = await page.evaluate(
      async (entries) => (await fetch('/kiosk/api/pickups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entries) })).json(),
      { mobile: pickup.notice.mobile, code: pickup.code },
    );
    expect(answer).toMatchObject({ error: { code: 'BOX_OFFLINE' }, screen: 'offline' });
    expect(k.emulators['bo-kiosk'].door(pickup.compartment)).toBe('closed');
    await page.goto(`${k.base}/kiosk/de`);
    await until(page, 'offline');
    const online = nextBoardEvent('bo-kiosk', 'board.online');
    k.emulators['bo-kiosk'].silenceBoard('gw1', 0, false);
    await online;
    await page.context().close();
  });
});

describe('inactivity', () => {
  it('returns to the first screen and forgets every entry', async () => {
    const { page } = await k.kiosk('md-kiosk');
    await page.clock.install();
    await page.goto(`${k.base}/kiosk/de`);
    await enter(page, '+4915112345678');
    await visible(page).locator('input').fill('123');
    await page.clock.fastForward(61_000);
    await page.waitForURL(`${k.base}/kiosk`);
    await page.goto(`${k.base}/kiosk/de`);
    expect(await visible(page).locator('input').inputValue()).toBe('');
    await page.context().close();
  });
});
