/**
 * The dashboard's browser script (compiled by esbuild at start-up): keeps a
 * box page live from its server-sent events. The page works without it;
 * with it, compartments change colour, counts and the waiting list update,
 * and new alarms appear, as they happen.
 */
interface BoxPageData {
  page: 'box';
  boxId: string;
  states: Record<string, string>;
}

const data = JSON.parse(document.body.dataset.dashboard ?? '{"page":"none"}') as BoxPageData | { page: 'none' };

function live(page: BoxPageData): void {
  const status = document.querySelector<HTMLElement>('[data-live]');
  const source = new EventSource(`/dashboard/boxes/${encodeURIComponent(page.boxId)}/live`);
  source.addEventListener('ready', () => status?.setAttribute('data-connected', 'true'));
  source.addEventListener('error', () => status?.setAttribute('data-connected', 'false'));
  source.addEventListener('compartments', (event) => {
    const { changed, counts } = JSON.parse((event as MessageEvent<string>).data) as { changed: { id: string; view: string }[]; counts: Record<string, number> };
    for (const { id, view } of changed) {
      const cell = document.getElementById(`c-${id}`);
      if (cell === null) continue;
      cell.className = `v-${view}`;
      cell.dataset.view = view;
      const state = cell.querySelector<HTMLElement>('[data-state]');
      if (state !== null) state.textContent = page.states[view] ?? view;
    }
    for (const [view, count] of Object.entries(counts)) {
      const target = document.querySelector<HTMLElement>(`[data-count="${view}"]`);
      if (target !== null) target.textContent = String(count);
    }
  });
  source.addEventListener('waiting', (event) => {
    const { text } = JSON.parse((event as MessageEvent<string>).data) as { text: string };
    const target = document.querySelector<HTMLElement>('[data-waiting]');
    if (target !== null) target.textContent = text;
  });
  source.addEventListener('alarm', (event) => {
    const alarm = JSON.parse((event as MessageEvent<string>).data) as { kind: string; compartment: string | null; detail: string | null };
    const list = document.querySelector<HTMLElement>('[data-alarms]');
    if (list === null) return;
    document.querySelector('[data-no-alarms]')?.remove();
    const item = document.createElement('li');
    item.textContent = `${alarm.kind}${alarm.compartment === null ? '' : ` · ${alarm.compartment}`}${alarm.detail === null ? '' : ` ${alarm.detail}`}`;
    list.prepend(item);
  });
}

if (data.page === 'box') live(data);
