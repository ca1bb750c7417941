/**
 * The browser side of the box's touchscreen (compiled by esbuild when the
 * service starts, see src/web/assets.ts). The page holds every screen; this
 * script walks through the box's steps, collects the entries, submits them
 * together once (so no answer tells which entry was wrong or whether a code
 * exists), follows the open door, and returns to the first screen after
 * inactivity, which reloads the page and so forgets every entry. It knows no
 * texts: the server renders them and formats the few that depend on answers.
 */

interface PickupData {
  page: 'pickup';
  lang: string;
  screens: string[];
  oldDocument: 'none' | 'returnSlot' | 'intoCompartment' | 'destructionSlot';
  idle: number;
}

interface StaffData {
  page: 'staff';
  lang: string;
  idle: number;
  signedIn: boolean;
}

type PageData = PickupData | StaffData | { page: 'languages'; idle: number } | { page: 'enroll'; idle: number };

interface ApiAnswer {
  ok: boolean;
  status: number;
  body: Record<string, unknown>;
}

const data = JSON.parse(document.body.dataset.kiosk ?? '{"page":"none","idle":60}') as PageData;

async function api(path: string, body?: unknown): Promise<ApiAnswer> {
  try {
    const response = await fetch(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    const parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    return { ok: response.ok, status: response.status, body: parsed };
  } catch {
    return { ok: false, status: 0, body: {} };
  }
}

function $(selector: string, root: ParentNode = document): HTMLElement | null {
  return root.querySelector<HTMLElement>(selector);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/* ---------- inactivity: back to the first screen, every entry forgotten ---------- */

let idleTimer: number | undefined;
let idleHeld = false;

function toStart(): void {
  window.location.assign('/kiosk');
}

function touch(): void {
  if (idleTimer !== undefined) window.clearTimeout(idleTimer);
  if (idleHeld || data.page === 'languages' || data.page === 'enroll') return;
  idleTimer = window.setTimeout(onIdle, data.idle * 1000);
}

function onIdle(): void {
  if (data.page === 'staff' && data.signedIn) {
    void api(`/kiosk/${data.lang}/staff/sign-out`, {}).then(toStart);
    return;
  }
  toStart();
}

for (const type of ['pointerdown', 'keydown', 'input']) document.addEventListener(type, touch, { capture: true, passive: true });

/* ---------- low layout for wheelchair users (kept while the page lives) ---------- */

const low = document.getElementById('low-layout');
low?.addEventListener('click', () => {
  const on = !document.body.classList.contains('low');
  document.body.classList.toggle('low', on);
  low.setAttribute('aria-pressed', String(on));
  try {
    sessionStorage.setItem('dokubox-low', on ? '1' : '0');
  } catch {
    /* storage may be off */
  }
});
try {
  if (sessionStorage.getItem('dokubox-low') === '1' && low !== null) {
    document.body.classList.add('low');
    low.setAttribute('aria-pressed', 'true');
  }
} catch {
  /* storage may be off */
}

/* ---------- on-screen keypad ---------- */

function formatDate(raw: string): string {
  const chars = raw.toUpperCase().replace(/[^0-9X]/g, '').slice(0, 8);
  if (chars.length <= 2) return chars;
  if (chars.length <= 4) return `${chars.slice(0, 2)}.${chars.slice(2)}`;
  return `${chars.slice(0, 2)}.${chars.slice(2, 4)}.${chars.slice(4)}`;
}

for (const pad of Array.from(document.querySelectorAll<HTMLElement>('[data-keypad]'))) {
  const input = document.getElementById(pad.dataset.keypad ?? '') as HTMLInputElement | null;
  pad.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-key]');
    if (button === null || input === null) return;
    const key = button.dataset.key ?? '';
    const date = input.dataset.kind === 'date';
    const current = date ? input.value.replace(/\./g, '') : input.value;
    const next = key === 'delete' ? current.slice(0, -1) : current + key;
    input.value = date ? formatDate(next) : next.slice(0, input.maxLength > 0 ? input.maxLength : 32);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.focus();
  });
}
for (const input of Array.from(document.querySelectorAll<HTMLInputElement>('input[data-kind="date"]'))) {
  input.addEventListener('input', () => {
    const digits = input.value.replace(/[^0-9Xx]/g, '');
    if (!input.value.includes('.') || digits.length === 8) input.value = formatDate(input.value);
  });
}

/* ---------- the applicant's pickup ---------- */

function pickupFlow(page: PickupData): void {
  const entries: { mobile?: string; code?: string; dateOfBirth?: string; can?: string; pinLetter?: boolean; oldCard?: boolean } = {};
  let position = 0;
  let failures = 0;

  const sections = Array.from(document.querySelectorAll<HTMLElement>('main section[data-screen]'));
  const show = (screen: string): void => {
    for (const section of sections) section.hidden = section.dataset.screen !== screen;
    const target = $(`section[data-screen="${screen}"]`);
    // The field takes the keyboard; screens without one put the focus on their heading, so a screen reader reads it.
    const focus = target?.querySelector<HTMLElement>('input') ?? target?.querySelector<HTMLElement>('h2, button') ?? null;
    focus?.focus();
    idleHeld = screen === 'open' || screen === 'checking';
    touch();
  };

  /** The screen of the current position: the old-card branch picks date of birth or CAN. */
  const screenAt = (index: number): string => {
    const step = page.screens[index] ?? '';
    if (step === 'dateOfBirthOrCan') return entries.oldCard === true ? 'step-can' : 'step-dateOfBirth';
    return `step-${step}`;
  };

  const reset = (): void => {
    for (const key of Object.keys(entries)) delete entries[key as keyof typeof entries];
    for (const input of Array.from(document.querySelectorAll<HTMLInputElement>('main input'))) input.value = '';
    for (const alert of Array.from(document.querySelectorAll<HTMLElement>('main [id^="err-"]'))) alert.hidden = true;
    position = 0;
    show(screenAt(0));
  };

  const valid = (id: string, value: string): boolean => {
    if (id === 'mobile') return /^[+0-9 ()/-]{5,20}$/.test(value) && /\d{5}/.test(value.replace(/\D/g, ''));
    if (id === 'code' || id === 'can') return /^\d{6}$/.test(value);
    if (id === 'dateOfBirth') return /^(\d{2}|XX)\.(\d{2}|XX)\.\d{4}$/i.test(value);
    return true;
  };

  const advance = (): void => {
    if (position + 1 >= page.screens.length) {
      void submit();
      return;
    }
    position += 1;
    show(screenAt(position));
  };

  const back = (): void => {
    if (position === 0) {
      toStart();
      return;
    }
    position -= 1;
    show(screenAt(position));
  };

  const submit = async (): Promise<void> => {
    show('checking');
    const answer = await api('/kiosk/api/pickups', {
      lang: page.lang,
      mobile: entries.mobile,
      code: entries.code,
      dateOfBirth: entries.oldCard === true ? undefined : entries.dateOfBirth,
      can: entries.oldCard === true ? entries.can : undefined,
      pinLetter: entries.pinLetter,
    });
    if (answer.ok) {
      opened(answer.body);
      return;
    }
    const screen = text(answer.body.screen) || 'error';
    if (screen === 'failed') {
      failures += 1;
      const failedSection = $('section[data-screen="failed"]');
      const remaining = failedSection && $('[data-text="remaining"]', failedSection);
      if (remaining) remaining.textContent = text(answer.body.remaining);
      const counter = failedSection && $('[data-text="counter"]', failedSection);
      if (counter) counter.hidden = failures < 3;
    }
    if (screen === 'paused' || screen === 'closed') {
      const target = $(`section[data-screen="${screen}"] [data-text="${screen === 'paused' ? 'body' : 'next'}"]`);
      if (target) target.textContent = text(answer.body.detail);
    }
    // Entries are forgotten after every answer but success.
    for (const key of Object.keys(entries)) delete entries[key as keyof typeof entries];
    for (const input of Array.from(document.querySelectorAll<HTMLInputElement>('main input'))) input.value = '';
    show(screen);
  };

  const opened = (body: Record<string, unknown>): void => {
    const section = $('section[data-screen="open"]');
    if (section === null) return;
    const title = $('[data-title]', section);
    if (title) title.textContent = text(body.title);
    const number = $('[data-text="compartment"]', section);
    if (number) number.textContent = text(body.compartment);
    const front = $('[data-front]', section);
    const place = body.front as { columns: number; rows: number; column: number; row: number } | undefined;
    if (front && place) front.replaceChildren(drawFront(place, text(body.compartment), text(body.picture)));
    for (const input of Array.from(document.querySelectorAll<HTMLInputElement>('main input'))) input.value = '';
    show('open');
    void follow();
  };

  /** Asks until the door closed with the document taken (or a fault), then the last screens. */
  const follow = async (): Promise<void> => {
    for (;;) {
      await new Promise((resolve) => window.setTimeout(resolve, 700));
      const answer = await api('/kiosk/api/progress');
      const stage = text(answer.body.stage);
      if (stage === 'open' || (!answer.ok && answer.status === 0)) continue;
      if (stage === 'collected') {
        const oldCardStep = page.oldDocument === 'returnSlot' || (page.oldDocument === 'destructionSlot' && entries.oldCard !== false);
        show(oldCardStep ? 'old-document' : 'done');
        if (!oldCardStep) window.setTimeout(toStart, 15_000);
      } else {
        show(stage === 'fault' ? 'fault' : 'error');
      }
      return;
    }
  };

  document.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>('[data-action]');
    if (button === null) return;
    const action = button.dataset.action;
    const section = button.closest<HTMLElement>('section[data-screen]');
    const screen = section?.dataset.screen ?? '';
    if (action === 'back') back();
    else if (action === 'retry') reset();
    else if (action === 'done') {
      show('done');
      window.setTimeout(toStart, 15_000);
    } else if (action === 'yes' || action === 'no') {
      if (screen === 'step-pinLetter') {
        entries.pinLetter = action === 'yes';
        if (action === 'no') {
          show('pin-missing');
          return;
        }
      }
      if (screen === 'step-oldCard') entries.oldCard = action === 'yes';
      advance();
    } else if (action === 'next') {
      const input = section?.querySelector<HTMLInputElement>('input');
      const id = input?.name ?? '';
      const value = (input?.value ?? '').trim().toUpperCase();
      const error = document.getElementById(`err-${id}`);
      if (!valid(id, value)) {
        if (error) error.hidden = false;
        input?.focus();
        return;
      }
      if (error) error.hidden = true;
      (entries as Record<string, string>)[id] = value;
      advance();
    }
  });
  document.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement;
    if (event.key !== 'Enter' || target.tagName !== 'INPUT') return;
    event.preventDefault();
    target.closest('section')?.querySelector<HTMLButtonElement>('button[data-action="next"]')?.click();
  });
  // The first field takes the keyboard at once (a keyboard or a scanner types into it).
  $('main section[data-screen]:not([hidden]) input')?.focus();
  touch();
}

const SVG = 'http://www.w3.org/2000/svg';

/** The box front: every compartment a cell, the open one highlighted with its number. */
function drawFront(place: { columns: number; rows: number; column: number; row: number }, label: string, description: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `-2 -2 ${place.columns * 10 + 4} ${place.rows * 10 + 4}`);
  svg.setAttribute('class', 'front');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', description);
  const cells = document.createElementNS(SVG, 'g');
  for (let c = 0; c < place.columns; c += 1) {
    for (let r = 0; r < place.rows; r += 1) {
      const cell = document.createElementNS(SVG, 'rect');
      cell.setAttribute('x', String(c * 10 + 0.5));
      cell.setAttribute('y', String((place.rows - 1 - r) * 10 + 0.5));
      cell.setAttribute('width', '9');
      cell.setAttribute('height', '9');
      cell.setAttribute('class', c === place.column && r === place.row ? 'target' : 'cell');
      cells.append(cell);
    }
  }
  svg.append(cells);
  const tag = document.createElementNS(SVG, 'text');
  tag.setAttribute('x', String(place.column * 10 + 5));
  tag.setAttribute('y', String((place.rows - 1 - place.row) * 10 + 6.6));
  tag.setAttribute('text-anchor', 'middle');
  tag.setAttribute('class', 'label');
  tag.textContent = label;
  svg.append(tag);
  return svg;
}

/* ---------- staff mode ---------- */

function staffMode(page: StaffData): void {
  const base = `/kiosk/${page.lang}/staff`;
  const result = $('[data-text="result"]');
  const say = (message: string): void => {
    if (result === null) return;
    result.textContent = message;
    result.hidden = message === '';
  };

  const signin = document.querySelector<HTMLFormElement>('form[data-form="signin"]');
  signin?.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(signin);
    void api(`${base}/sign-in`, { staffNumber: String(form.get('staffNumber') ?? ''), pin: String(form.get('pin') ?? '') }).then((answer) => {
      if (answer.ok) {
        window.location.reload();
        return;
      }
      const alert = $('[data-text="signin"]');
      if (alert) {
        alert.textContent = text(answer.body.message);
        alert.hidden = false;
      }
      (signin.elements.namedItem('pin') as HTMLInputElement | null)?.setAttribute('value', '');
      const pin = signin.elements.namedItem('pin') as HTMLInputElement | null;
      if (pin) pin.value = '';
    });
  });
  // A badge scanner types the number and Enter: go on to the PIN.
  document.getElementById('staff-number')?.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    document.getElementById('staff-pin')?.focus();
  });

  const watch = async (compartment: string, until: (state: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    idleHeld = true;
    try {
      for (;;) {
        await new Promise((resolve) => window.setTimeout(resolve, 700));
        const answer = await api(`/kiosk/api/staff/compartments/${encodeURIComponent(compartment)}`);
        if (answer.ok && until(answer.body)) return answer.body;
        if (!answer.ok && answer.status !== 0) return answer.body;
      }
    } finally {
      idleHeld = false;
      touch();
    }
  };

  const load = document.querySelector<HTMLFormElement>('form[data-form="load"]');
  load?.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = load.elements.namedItem('serialNumber') as HTMLInputElement;
    const serialNumber = input.value.trim();
    input.value = '';
    void api('/kiosk/api/staff/loadings', { serialNumber, lang: page.lang }).then(async (answer) => {
      say(text(answer.body.message));
      if (!answer.ok) return;
      const compartment = text(answer.body.compartment);
      // Done when the pickup left `reserved`, or the door is closed and the middleware has handled the closing
      // (a door closed on nothing leaves it reserved). A closing still being handled is waited for, up to about 10 s.
      let closedPolls = 0;
      const final = await watch(compartment, (s) => s.pickupState !== 'reserved' || (s.door === 'closed' && (s.settling !== true || ++closedPolls > 14)));
      say(text(final.message));
      input.focus();
    });
  });
  (load?.elements.namedItem('serialNumber') as HTMLInputElement | null)?.focus();

  const defective = document.querySelector<HTMLFormElement>('form[data-form="defective"]');
  defective?.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = defective.elements.namedItem('compartment') as HTMLInputElement;
    void api(`/kiosk/api/staff/compartments/${encodeURIComponent(input.value.trim())}/defective`, { lang: page.lang }).then((answer) => {
      say(text(answer.body.message));
      if (answer.ok) input.value = '';
    });
  });

  document.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
    if (button === null) return;
    const compartment = button.dataset.compartment ?? '';
    const action = button.dataset.action;
    if (action === 'signout') void api(`${base}/sign-out`, {}).then(toStart);
    else if (action === 'release') void api('/kiosk/api/staff/release', { lang: page.lang }).then((answer) => say(text(answer.body.message)));
    else if (action === 'empty-open') {
      void api(`/kiosk/api/staff/compartments/${encodeURIComponent(compartment)}/open`, { lang: page.lang }).then((answer) => {
        say(text(answer.body.message));
        if (!answer.ok) return;
        button.hidden = true;
        const confirm = button.parentElement?.querySelector<HTMLButtonElement>('button[data-action="empty-confirm"]');
        if (confirm) {
          confirm.hidden = false;
          confirm.focus();
        }
      });
    } else if (action === 'empty-confirm') {
      void api(`/kiosk/api/staff/compartments/${encodeURIComponent(compartment)}/emptied`, { lang: page.lang }).then((answer) => {
        say(text(answer.body.message));
        if (answer.ok) button.closest('li')?.remove();
      });
    }
  });
  touch();
}

/* ---------- enrolling from a link: /kiosk/enroll#code=… (the simulator's console embeds its kiosk so) ---------- */

/** The code travels in the fragment, which no server and no log sees; it is used once and leaves the address bar at once. */
function enrollFromLink(): void {
  const code = /^#code=([A-Za-z0-9-]{1,32})$/.exec(window.location.hash)?.[1];
  if (code === undefined) return;
  history.replaceState(null, '', window.location.pathname);
  const input = document.getElementById('enroll-code');
  if (!(input instanceof HTMLInputElement) || input.form === null) return;
  input.value = code;
  input.form.requestSubmit();
}

if (data.page === 'pickup') pickupFlow(data);
else if (data.page === 'staff') staffMode(data);
else if (data.page === 'enroll') enrollFromLink();
else touch();
