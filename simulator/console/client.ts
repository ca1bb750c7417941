/**
 * The console's browser script (compiled by esbuild when the simulator
 * starts). It follows the world's events (GET /api/events) and reloads the
 * parts a change touches as server-rendered fragments (GET /parts/:name),
 * keeping the focus where it was; it sends the buttons' requests (data-api,
 * data-body) and the forms to the control API and shows the answer; it lets
 * the arrow keys move through the box front, ticks the clock between events
 * and scales the kiosk's screen to its panel. It knows no texts but the few
 * the page hands it.
 */

interface ConsoleData {
  box: string;
  lang: string;
  selected: string | null;
  zone: string;
  texts: { sent: string; done: string; failed: string; offline: string; live: string };
}

type Part = 'clock' | 'front' | 'compartment' | 'faults' | 'phones' | 'notices' | 'middleware';
type Change = { kind: 'compartment' | 'wiring' | 'inbox' | 'reports' | 'notices' | 'faults' | 'clock'; box?: string };

const data = JSON.parse(document.body.dataset.console ?? '{}') as ConsoleData;
let selected = data.selected;

/** Which parts show what a change touched. */
const AFFECTS: Record<Change['kind'], Part[]> = {
  compartment: ['front', 'compartment'],
  wiring: ['front', 'compartment', 'faults'],
  inbox: ['phones', 'middleware'],
  reports: ['notices', 'front', 'compartment', 'middleware'],
  notices: ['notices', 'front', 'compartment', 'middleware'],
  faults: ['faults', 'front', 'compartment', 'middleware'],
  clock: ['clock'],
};
/** Parts that show the middleware's side, which sends no events to the console: read again every few seconds. */
const POLLED: Part[] = ['middleware', 'front', 'notices', 'compartment'];
const POLL_MS = 3000;

/* ---------------- messages ---------------- */

function say(text: string, kind: 'info' | 'error' = 'info'): void {
  const target = document.querySelector<HTMLElement>('[data-message]');
  if (target === null) return;
  target.dataset.kind = kind;
  target.textContent = text;
}

/* ---------------- parts ---------------- */

const last = new Map<Part, string>();
const loading = new Set<Part>();
const again = new Set<Part>();

function partUrl(part: Part): string {
  const params = new URLSearchParams({ box: data.box, lang: data.lang });
  if (selected !== null) params.set('c', selected);
  return `/parts/${part}?${params.toString()}`;
}

/** Makes `target`'s children look like `source`'s, keeping every element whose tag stays the same (so a click or the focus on it is not lost). */
function morph(target: Node, source: Node): void {
  const before = [...target.childNodes];
  const after = [...source.childNodes];
  after.forEach((next, index) => {
    const old = before[index];
    if (old === undefined) {
      target.appendChild(next);
    } else if (old instanceof Element && next instanceof Element && old.tagName === next.tagName) {
      for (const { name } of [...old.attributes]) if (!next.hasAttribute(name)) old.removeAttribute(name);
      for (const { name, value } of [...next.attributes]) if (old.getAttribute(name) !== value) old.setAttribute(name, value);
      morph(old, next);
    } else if (old.nodeType === next.nodeType && !(old instanceof Element)) {
      if (old.nodeValue !== next.nodeValue) old.nodeValue = next.nodeValue;
    } else {
      target.replaceChild(next, old);
    }
  });
  for (const extra of before.slice(after.length)) extra.remove();
}

/** Brings a part up to date; the focused element keeps the focus, or its successor does (by data-focus key). */
function replace(container: HTMLElement, html: string): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && container.contains(active) ? (active.dataset.focus ?? active.id) : undefined;
  const template = document.createElement('template');
  template.innerHTML = html;
  morph(container, template.content);
  if (key !== undefined && key !== '' && !container.contains(document.activeElement)) {
    const successor = container.querySelector<HTMLElement>(`[data-focus="${CSS.escape(key)}"]`) ?? document.getElementById(key);
    successor?.focus({ preventScroll: true });
  }
  if (container.dataset.part === 'clock') tick();
}

async function load(part: Part): Promise<void> {
  if (loading.has(part)) {
    again.add(part);
    return;
  }
  const container = document.querySelector<HTMLElement>(`[data-part="${part}"]`);
  if (container === null) return;
  loading.add(part);
  try {
    const response = await fetch(partUrl(part), { cache: 'no-store' });
    if (response.ok) {
      const html = await response.text();
      if (last.get(part) !== html) {
        last.set(part, html);
        replace(container, html);
      }
    }
  } catch {
    // The next event or poll tries again.
  } finally {
    loading.delete(part);
    if (again.delete(part)) void load(part);
  }
}

function refresh(parts: Iterable<Part>): void {
  for (const part of new Set(parts)) void load(part);
}

/* ---------------- live ---------------- */

function live(): void {
  const status = document.querySelector<HTMLElement>('[data-live]');
  const source = new EventSource('/api/events');
  source.addEventListener('ready', () => {
    if (status !== null) {
      status.dataset.connected = 'true';
      status.textContent = data.texts.live;
    }
    // After a reconnect anything may have changed.
    refresh(Object.keys(AFFECTS).flatMap((k) => AFFECTS[k as Change['kind']]));
  });
  source.addEventListener('error', () => {
    if (status !== null) {
      status.dataset.connected = 'false';
      status.textContent = data.texts.offline;
    }
  });
  source.addEventListener('change', (event) => {
    const changes = JSON.parse((event as MessageEvent<string>).data) as Change[];
    refresh(changes.flatMap((c) => AFFECTS[c.kind] ?? []));
  });
  setInterval(() => {
    if (document.visibilityState === 'visible') refresh(POLLED);
  }, POLL_MS);
}

/* ---------------- requests to the control API ---------------- */

async function send(method: string, path: string, body: unknown): Promise<{ ok: boolean; body: Record<string, unknown> }> {
  try {
    const response = await fetch(path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? '{}' : JSON.stringify(body),
      cache: 'no-store',
    });
    const parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    return { ok: response.ok, body: parsed };
  } catch {
    return { ok: false, body: { message: data.texts.offline } };
  }
}

function report(answer: { ok: boolean; body: Record<string, unknown> }, success: string): void {
  if (answer.ok) say(success);
  else say(`${data.texts.failed} ${typeof answer.body.message === 'string' ? answer.body.message : ''}`, 'error');
}

document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const button = target?.closest<HTMLButtonElement>('button[data-api]');
  if (button !== null && button !== undefined) {
    const [method = 'POST', path = '/'] = (button.dataset.api ?? '').split(' ');
    const body = button.dataset.body === undefined ? undefined : (JSON.parse(button.dataset.body) as unknown);
    void send(method, path, body).then((answer) => report(answer, data.texts.done));
    return;
  }
  const cell = target?.closest<HTMLButtonElement>('button[data-c]');
  if (cell !== null && cell !== undefined) {
    select(cell.dataset.c ?? null);
    return;
  }
  const link = target?.closest<HTMLButtonElement>('button[data-select]');
  if (link !== null && link !== undefined) {
    select(link.dataset.select ?? null);
    document.querySelector<HTMLElement>(`button[data-c="${CSS.escape(link.dataset.select ?? '')}"]`)?.focus();
  }
});

/* ---------------- the box front ---------------- */

function select(id: string | null): void {
  selected = id;
  const url = new URL(location.href);
  if (id === null) url.searchParams.delete('c');
  else url.searchParams.set('c', id);
  history.replaceState(null, '', url);
  for (const cell of document.querySelectorAll<HTMLButtonElement>('button[data-c]')) {
    const mine = cell.dataset.c === id;
    if (mine) cell.setAttribute('aria-current', 'true');
    else cell.removeAttribute('aria-current');
    cell.tabIndex = mine ? 0 : -1;
  }
  void load('compartment');
  void load('front');
}

const MOVES: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };

document.addEventListener('keydown', (event) => {
  const cell = event.target instanceof HTMLButtonElement && event.target.dataset.c !== undefined ? event.target : null;
  const move = MOVES[event.key];
  if (cell === null || move === undefined) return;
  const column = Number(cell.dataset.col) + move[0];
  const row = Number(cell.dataset.row) + move[1];
  const next = document.querySelector<HTMLButtonElement>(`button[data-c][data-col="${column}"][data-row="${row}"]`);
  if (next === null) return;
  event.preventDefault();
  cell.tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
});

/* ---------------- forms ---------------- */

document.addEventListener('submit', (event) => {
  const form = event.target instanceof HTMLFormElement ? event.target : null;
  if (form === null) return;
  event.preventDefault();
  const fields = new FormData(form);
  if (form.dataset.form === 'notice') {
    const documents = fields.getAll('documents').map(String);
    const body: Record<string, unknown> = {
      boxId: String(fields.get('boxId') ?? data.box),
      count: Number(fields.get('count') ?? 1),
      format: String(fields.get('format') ?? 'soap'),
      accessible: fields.get('accessible') === 'true',
    };
    const language = String(fields.get('language') ?? '');
    const mobile = String(fields.get('mobile') ?? '');
    if (language !== '') body.language = language;
    if (mobile !== '') body.mobile = mobile;
    if (documents.length > 0) body.documents = documents;
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
    if (button !== null) button.disabled = true;
    void send('POST', '/api/notices', body).then((answer) => {
      if (button !== null) button.disabled = false;
      const sent = Array.isArray(answer.body.sent) ? (answer.body.sent as { outcome: string }[]) : [];
      const outcomes = [...new Set(sent.map((s) => s.outcome))].join(', ');
      report(answer, `${data.texts.sent} ${sent.length} × ${outcomes}`);
    });
  } else if (form.dataset.form === 'jump') {
    const value = String(fields.get('at') ?? '');
    const at = new Date(value);
    if (Number.isNaN(at.getTime())) return;
    void send('PUT', '/api/clock', { at: at.toISOString() }).then((answer) => report(answer, data.texts.done));
  }
});

/* ---------------- the clock ---------------- */

let clockBase: { now: number; speed: number; seen: number } | undefined;

function tick(): void {
  const time = document.querySelector<HTMLTimeElement>('time[data-clock-now]');
  if (time === null) return;
  const now = Number(time.dataset.clockNow);
  const speed = Number(time.dataset.clockSpeed);
  if (clockBase === undefined || clockBase.now !== now || clockBase.speed !== speed) clockBase = { now, speed, seen: performance.now() };
  const current = clockBase.now + (performance.now() - clockBase.seen) * clockBase.speed;
  time.textContent = new Intl.DateTimeFormat(data.lang === 'en' ? 'en-GB' : 'de-DE', {
    timeZone: data.zone,
    weekday: 'short',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(current));
  time.dateTime = new Date(current).toISOString();
}

/* ---------------- the kiosk's screen ---------------- */

function scaleKiosk(): void {
  const screen = document.querySelector<HTMLElement>('[data-kiosk-screen]');
  const frame = screen?.querySelector<HTMLIFrameElement>('iframe');
  if (screen === null || screen === undefined || frame === null || frame === undefined) return;
  const width = Number(screen.dataset.width);
  const height = Number(screen.dataset.height);
  const fit = (): void => {
    const scale = Math.min(1, screen.clientWidth / width);
    frame.style.transform = `scale(${scale})`;
    screen.style.height = `${Math.round(height * scale)}px`;
  };
  new ResizeObserver(fit).observe(screen);
  fit();
}

scaleKiosk();
tick();
setInterval(tick, 1000);
live();
