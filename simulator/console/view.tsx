/**
 * The console's parts, rendered on the server with Hono's JSX: each part is
 * a fragment the page loads again when the world changes (GET /parts/:name),
 * so every text comes from the console's catalogues and the browser script
 * only swaps fragments and sends the buttons' requests to /api.
 */
import type { Child, FC } from 'hono/jsx';
import { frontGrid, frontPosition, type BoxDefinition } from '../../src/core/box.js';
import type { DocumentType } from '../../src/core/documents.js';
import type { Catalogues } from '../../src/web/i18n.js';
import { FAULT_KINDS, faultId, type FaultKind, type FaultTarget } from '../faults.js';
import type { CompartmentView } from '../locker/cu16-emulator.js';
import type { InboxMessage } from '../sms-gateway/index.js';
import { COMPARTMENT_ACTIONS, type SentNotice, type SimulatedWorld } from '../world.js';
import type { MiddlewareSummary } from './middleware.js';

export type T = (key: string, values?: Record<string, string | number | Date>) => string;

export interface ViewContext {
  world: SimulatedWorld;
  box: BoxDefinition;
  lang: 'de' | 'en';
  t: T;
  summary: MiddlewareSummary;
  selected: string | undefined;
  documentTypes: DocumentType[];
}

export const CONSOLE_LANGUAGES = ['de', 'en'] as const;
/** The languages of the kiosk and the SMS, as a notice names them. */
export const NOTICE_LANGUAGES = ['de', 'en', 'ar', 'uk', 'ru', 'tr', 'fa', 'fr'] as const;
export const SPEEDS = [1, 60, 3600, 0] as const;

export function translator(catalogues: Catalogues, lang: string, timeZone: string): T {
  return (key, values = {}) => catalogues.t(lang, key, values, timeZone);
}

/** `jammed-lock` → `jammedLock` (catalogue keys have no hyphens). */
export const keyOf = (kind: string): string => kind.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

const locale = (lang: string): string => (lang === 'en' ? 'en-GB' : 'de-DE');

export function formatTime(lang: string, timeZone: string, at: number | string, withDate = false): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return String(at);
  return new Intl.DateTimeFormat(locale(lang), {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    ...(withDate ? { weekday: 'short', day: '2-digit', month: '2-digit', year: 'numeric' } : {}),
  }).format(date);
}

/** A date of birth as the document prints it: an unknown day or month as XX (what the applicant types at the box). */
export function printedDate(iso: string): string {
  const [year, month, day] = iso.split('-');
  return `${day ?? 'XX'}.${month ?? 'XX'}.${year ?? ''}`;
}

/** A button that sends one request to the control API (the browser script reads data-api and data-body). */
const ApiButton: FC<{ api: string; body?: unknown; pressed?: boolean; label?: string; disabled?: boolean; class?: string; focus?: string; children?: Child }> = (p) => (
  <button
    type="button"
    class={p.class}
    data-api={p.api}
    data-body={p.body === undefined ? undefined : JSON.stringify(p.body)}
    aria-pressed={p.pressed === undefined ? undefined : String(p.pressed)}
    aria-label={p.label}
    disabled={p.disabled === true}
    data-focus={p.focus ?? p.api + (p.body === undefined ? '' : JSON.stringify(p.body))}
  >
    {p.children}
  </button>
);

/** A fault switch: pressed while the fault is on; the next press switches it the other way. */
const FaultSwitch: FC<{ c: ViewContext; kind: FaultKind; target: FaultTarget; label: string; name?: string; compact?: boolean }> = ({ c, kind, target, label, name, compact }) => {
  const on = c.world.faults().some((f) => f.id === faultId(kind, target));
  return (
    <ApiButton api="POST /api/faults" body={{ kind, target, on: !on }} pressed={on} label={name} class={compact === true ? 'switch compact' : 'switch'} focus={`fault-${faultId(kind, target)}`}>
      <span aria-hidden="true" class="switch-mark">
        {on ? '●' : '○'}
      </span>
      {label}
    </ApiButton>
  );
};

/** What a fault does and what dokubox should do; `titled` names the fault first (in a list of several). */
const FaultHelp: FC<{ t: T; kind: FaultKind; titled?: boolean }> = ({ t, kind, titled }) => (
  <p class="fault-help">
    {titled === true ? <strong>{t(`fault.${keyOf(kind)}.title`)}:</strong> : null}
    {titled === true ? ' ' : null}
    {t(`fault.${keyOf(kind)}.description`)} <span class="expect">{t('fault.expect', { text: t(`fault.${keyOf(kind)}.expect`) })}</span>
  </p>
);

/** The switches of every fault of one part without a target (the SMS gateway, the case system). */
const FaultSwitches: FC<{ c: ViewContext; t: T; part: 'sms' | 'case-system' }> = ({ c, t, part }) => (
  <ul class="switches">
    {(Object.keys(FAULT_KINDS) as FaultKind[])
      .filter((k) => FAULT_KINDS[k].part === part)
      .map((kind) => (
        <li>
          <FaultSwitch c={c} kind={kind} target={{}} label={t(`fault.${keyOf(kind)}.title`)} />
          <FaultHelp t={t} kind={kind} />
        </li>
      ))}
  </ul>
);

/* ---------------- the clock ---------------- */

export function clockPart(c: ViewContext): Child {
  const { t } = c;
  const state = c.world.time.state();
  const speedName = (speed: number): string => (speed === 0 ? t('clock.pause') : t('clock.speed', { speed }));
  return (
    <div class="clock">
      <p class="now">
        <span class="visually-hidden">{t('clock.title')}: </span>
        <time datetime={new Date(state.now).toISOString()} data-clock-now={String(state.now)} data-clock-speed={String(state.simulated ? state.speed : 1)} data-clock-zone={c.box.timeZone}>
          {formatTime(c.lang, c.box.timeZone, state.now, true)}
        </time>{' '}
        <span class="speed" data-clock-state>
          {state.simulated ? (state.speed === 0 ? t('clock.paused') : t('clock.running', { speed: state.speed })) : t('clock.wall')}
        </span>
      </p>
      <div class="speeds" role="group" aria-label={t('clock.speeds')}>
        {SPEEDS.map((speed) => (
          <ApiButton api="PUT /api/clock" body={{ speed }} pressed={state.simulated && state.speed === speed} class="small" focus={`speed-${speed}`}>
            {speedName(speed)}
          </ApiButton>
        ))}
      </div>
    </div>
  );
}

/* ---------------- the box front ---------------- */

type Cell = { compartment: CompartmentView; definition: BoxDefinition['compartments'][number]; column: number; row: number };

/** The compartments in display order: rows from the top, columns from the left (null where the front has none). */
export function frontCells(box: BoxDefinition, views: CompartmentView[]): (Cell | null)[][] {
  const grid = frontGrid(box);
  const byId = new Map(views.map((v) => [v.id, v]));
  const out: (Cell | null)[][] = Array.from({ length: grid.rows }, () => Array.from({ length: grid.columns }, () => null));
  box.compartments.forEach((definition, index) => {
    const column = Math.floor(index / grid.rows);
    const row = index % grid.rows;
    const compartment = byId.get(definition.id);
    const line = out[grid.rows - 1 - row];
    if (compartment !== undefined && line !== undefined && column < grid.columns) line[column] = { compartment, definition, column, row };
  });
  return out;
}

const faulty = (v: CompartmentView): boolean => v.jammed || v.sensorBroken || v.boardSilent || !v.gatewayOnline;

/** What a cell says in words (its accessible name after the number). */
function cellText(t: T, v: CompartmentView, state: string): string {
  const parts = [t(`state.${state}`), t(v.door === 'open' ? 'door.open' : 'door.closed')];
  if (v.item === 'present') parts.push(t('item.present'));
  if (v.jammed) parts.push(t('fault.jammedLock.title'));
  if (v.sensorBroken) parts.push(t('fault.brokenSensor.title'));
  if (v.boardSilent) parts.push(t('compartment.boardSilent'));
  if (!v.gatewayOnline) parts.push(t('compartment.gatewayOffline'));
  return parts.join(', ');
}

export function frontPart(c: ViewContext): Child {
  const { t } = c;
  const views = c.world.lockers.has(c.box.id) ? c.world.compartments(c.box.id) : [];
  if (views.length === 0) return <p>{t('front.none')}</p>;
  const states = c.summary.boxes[c.box.id]?.compartments ?? {};
  const known = c.summary.boxes[c.box.id] !== undefined && c.summary.reachable;
  const selected = c.selected ?? c.box.compartments[0]?.id;
  return (
    <table class="front" role="presentation" data-front>
      <tbody>
        {frontCells(c.box, views).map((line) => (
          <tr>
            {line.map((cell) => {
              if (cell === null) return <td class="none" />;
              const v = cell.compartment;
              const state = known ? (states[v.id] ?? 'free') : 'unknown';
              const classes = [`s-${state}`, v.door === 'open' ? 'door-open' : '', v.item === 'present' ? 'item' : '', faulty(v) ? 'faulty' : ''].filter((x) => x !== '').join(' ');
              return (
                <td>
                  <button
                    type="button"
                    class={classes}
                    data-c={v.id}
                    data-col={String(cell.column)}
                    data-row={String(cell.row)}
                    data-state={state}
                    data-door={v.door}
                    data-focus={`c-${v.id}`}
                    tabindex={v.id === selected ? 0 : -1}
                    aria-current={v.id === c.selected ? 'true' : undefined}
                  >
                    {v.id}
                    <span class="visually-hidden">: {cellText(t, v, state)}</span>
                  </button>
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export const FrontLegend: FC<{ t: T }> = ({ t }) => (
  <ul class="legend">
    {['free', 'reserved', 'occupied', 'retrieval', 'defective', 'unknown'].map((s) => (
      <li>
        <span class={`swatch s-${s}`} aria-hidden="true" /> {t(`state.${s}`)}
      </li>
    ))}
    <li>
      <span class="swatch door-open" aria-hidden="true" /> {t('door.open')}
    </li>
    <li>
      <span class="swatch item" aria-hidden="true" /> {t('item.present')}
    </li>
    <li>
      <span class="swatch faulty" aria-hidden="true" /> {t('legend.faulty')}
    </li>
  </ul>
);

/* ---------------- the selected compartment ---------------- */

export function compartmentPart(c: ViewContext): Child {
  const { t } = c;
  if (c.selected === undefined || !c.world.lockers.has(c.box.id)) return <p data-none>{t('compartment.none')}</p>;
  let v: CompartmentView;
  try {
    v = c.world.compartment(c.box.id, c.selected);
  } catch {
    return <p data-none>{t('compartment.none')}</p>;
  }
  const definition = c.box.compartments.find((d) => d.id === v.id);
  const place = frontPosition(c.box, v.id);
  const state = c.summary.reachable ? (c.summary.boxes[c.box.id]?.compartments[v.id] ?? 'free') : 'unknown';
  const closed = v.door === 'closed';
  const enabled: Record<string, boolean> = { insert: !closed, take: !closed, close: !closed, 'leave-open': !closed, 'force-open': closed };
  const target = { box: c.box.id, compartment: v.id };
  return (
    <div data-compartment={v.id}>
      <h3 id="h-selected">{t('compartment.title', { compartment: v.id })}</h3>
      <dl class="facts">
        <dt>{t('compartment.dokubox')}</dt>
        <dd data-fact="state">{t(`state.${state}`)}</dd>
        <dt>{t('compartment.door')}</dt>
        <dd data-fact="door">{t(closed ? 'door.closed' : 'door.open')}</dd>
        <dt>{t('compartment.item')}</dt>
        <dd data-fact="item">{t(v.item === 'present' ? 'item.present' : 'item.absent')}</dd>
        <dt>{t('compartment.sensor')}</dt>
        <dd>
          {t(v.sensorReads === 'present' ? 'item.present' : 'item.absent')}
          {v.sensorBroken ? ` (${t('fault.brokenSensor.title')})` : ''}
        </dd>
        <dt>{t('compartment.lock')}</dt>
        <dd>
          {v.jammed ? t('fault.jammedLock.title') : t('compartment.lockOk')} · {t('compartment.unlocks', { count: v.unlocks })}
        </dd>
        <dt>{t('compartment.wiring')}</dt>
        <dd>
          {t('compartment.wiringAt', { gateway: v.gateway, board: v.board, lock: definition?.locker?.lock ?? '?' })}
          {v.boardSilent ? ` · ${t('compartment.boardSilent')}` : ''}
          {v.gatewayOnline ? '' : ` · ${t('compartment.gatewayOffline')}`}
        </dd>
        {place === undefined || definition === undefined ? null : (
          <>
            <dt>{t('compartment.place')}</dt>
            <dd>{t('compartment.placeAt', { column: place.column + 1, row: place.row + 1, size: definition.size, height: definition.heightCm, accessible: definition.accessible ? 'yes' : 'no' })}</dd>
          </>
        )}
      </dl>
      <div class="actions" role="group" aria-label={t('compartment.actions')}>
        {COMPARTMENT_ACTIONS.map((action) => (
          <ApiButton api={`POST /api/boxes/${encodeURIComponent(c.box.id)}/compartments/${encodeURIComponent(v.id)}/${action}`} disabled={!enabled[action]} focus={`act-${action}`}>
            {t(`action.${keyOf(action)}`)}
          </ApiButton>
        ))}
      </div>
      <p class="hint">{t(closed ? 'compartment.closedHint' : 'compartment.openHint')}</p>
      <div class="actions" role="group" aria-label={t('compartment.faults')}>
        <FaultSwitch c={c} kind="jammed-lock" target={target} label={t('fault.jammedLock.title')} />
        <FaultSwitch c={c} kind="broken-sensor" target={target} label={t('fault.brokenSensor.title')} />
      </div>
      <FaultHelp t={t} kind="jammed-lock" />
      <FaultHelp t={t} kind="broken-sensor" />
    </div>
  );
}

/* ---------------- faults of wiring, SMS gateway and case system ---------------- */

export function faultsPart(c: ViewContext): Child {
  const { t } = c;
  const wiring = c.world.lockers.has(c.box.id) ? c.world.wiring(c.box.id) : [];
  return (
    <div>
      <h3>{t('faults.wiring')}</h3>
      {wiring.map((gateway) => (
        <div class="gateway" data-gateway={gateway.id}>
          <p class="gateway-head">
            <strong>{t('faults.gateway', { gateway: gateway.id })}</strong> · {t(gateway.online ? 'faults.online' : 'faults.offline')} · {t('faults.connections', { count: gateway.connections })}
          </p>
          <div class="actions" role="group" aria-label={t('faults.gatewayFaults', { gateway: gateway.id })}>
            {(['dropped-gateway', 'garbage-replies', 'split-replies'] as const).map((kind) => (
              <FaultSwitch c={c} kind={kind} target={{ box: c.box.id, gateway: gateway.id }} label={t(`fault.${keyOf(kind)}.title`)} />
            ))}
          </div>
          <div class="boards" role="group" aria-label={t('faults.boards', { gateway: gateway.id })}>
            <span class="boards-label" aria-hidden="true">
              {t('faults.silentBoards')}
            </span>
            {gateway.boards.map((board) => (
              <FaultSwitch
                c={c}
                kind="silent-board"
                target={{ box: c.box.id, gateway: gateway.id, board: board.board }}
                label={String(board.board)}
                name={t('faults.boardName', { gateway: gateway.id, board: board.board })}
                compact
              />
            ))}
          </div>
        </div>
      ))}
      <details class="help">
        <summary>{t('faults.whatHappens')}</summary>
        {(['silent-board', 'dropped-gateway', 'garbage-replies', 'split-replies'] as const).map((kind) => (
          <FaultHelp t={t} kind={kind} titled />
        ))}
      </details>
      <h3>{t('faults.sms')}</h3>
      <FaultSwitches c={c} t={t} part="sms" />
      <h3>{t('faults.caseSystem')}</h3>
      <FaultSwitches c={c} t={t} part="case-system" />
    </div>
  );
}

/* ---------------- the phones ---------------- */

/** The language of an SMS: that of the notice whose pickup it belongs to (the gateway's foreign id starts with the pickup id). */
function languageOf(world: SimulatedWorld, message: InboxMessage): string | undefined {
  if (message.foreignId === undefined) return undefined;
  return world.notices.find((n) => n.pickupId !== undefined && message.foreignId?.startsWith(`${n.pickupId}.`))?.language;
}

const MESSAGES_SHOWN = 4;

export function phonesPart(c: ViewContext): Child {
  const { t } = c;
  const phones = Object.entries(c.world.phones());
  const withMessages = phones.filter(([, m]) => m.length > 0);
  const empty = phones.filter(([, m]) => m.length === 0).map(([p]) => p);
  return (
    <div>
      {withMessages.length === 0 ? <p>{t('phones.none')}</p> : null}
      <ul class="phones">
        {withMessages.map(([phone, messages]) => (
          <li class="phone" data-phone={phone}>
            <p class="phone-head">
              <strong>{phone}</strong> · {t('phones.count', { count: messages.length })}
            </p>
            <ol class="inbox" aria-label={t('phones.inbox', { phone })}>
              {messages.slice(-MESSAGES_SHOWN).map((m) => {
                const lang = languageOf(c.world, m);
                return (
                  <li data-sms={m.id}>
                    <p class="sms" lang={lang} dir="auto" data-sms-text>
                      {m.text}
                    </p>
                    <p class="sms-meta">
                      {m.from} · <time datetime={m.receivedAt}>{formatTime(c.lang, c.box.timeZone, m.receivedAt)}</time> · {t('phones.parts', { count: m.parts, encoding: m.encoding === 'ucs2' ? 'UCS-2' : 'GSM' })}
                      {lang === undefined ? '' : ` · ${t(`language.${lang}`)}`}
                    </p>
                  </li>
                );
              })}
            </ol>
          </li>
        ))}
      </ul>
      {empty.length === 0 ? null : <p class="hint">{t('phones.empty', { phones: empty.join(', ') })}</p>}
    </div>
  );
}

/* ---------------- the case system: notices and status reports ---------------- */

const NOTICES_SHOWN = 15;
const ENDED = new Set(['collected', 'expired', 'returned', 'cancelled']);

export function noticesPart(c: ViewContext): Child {
  const { t } = c;
  const byPickup = c.world.reportsByPickup();
  const refused = new Map<string, { count: number; answer: string }>();
  for (const attempt of c.world.callbacks.attempts) {
    if (attempt.answer === 'ok' || attempt.eventId === undefined) continue;
    const pickupId = attempt.eventId.replace(/:\d+$/, '');
    const entry = refused.get(pickupId) ?? { count: 0, answer: attempt.answer };
    entry.count += 1;
    entry.answer = attempt.answer;
    refused.set(pickupId, entry);
  }
  const notices = [...c.world.notices].reverse();
  const shown = notices.slice(0, NOTICES_SHOWN);
  const known = new Set(c.world.notices.map((n) => n.pickupId));
  const others = [...byPickup.keys()].filter((p) => !known.has(p));
  return (
    <div>
      {notices.length === 0 ? <p>{t('notices.none')}</p> : <p class="hint">{t('notices.count', { count: notices.length, shown: shown.length })}</p>}
      <ol class="notices">
        {shown.map((n) => (
          <NoticeItem c={c} notice={n} reports={n.pickupId === undefined ? [] : (byPickup.get(n.pickupId) ?? [])} refused={n.pickupId === undefined ? undefined : refused.get(n.pickupId)} />
        ))}
      </ol>
      {others.length === 0 ? null : (
        <>
          <h3>{t('notices.others')}</h3>
          <ol class="notices">
            {others.map((pickupId) => (
              <li class="notice" data-pickup={pickupId}>
                <p class="notice-head">
                  <strong>{t('notices.pickup', { id: pickupId.slice(0, 8) })}</strong>
                </p>
                <Reports c={c} reports={byPickup.get(pickupId) ?? []} />
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}

const NoticeItem: FC<{ c: ViewContext; notice: SentNotice; reports: ReturnType<SimulatedWorld['reports']>[number][]; refused: { count: number; answer: string } | undefined }> = ({ c, notice: n, reports, refused }) => {
  const { t } = c;
  const story = n.pickupId === undefined ? undefined : c.summary.pickups[n.pickupId];
  const lastStatus = reports.at(-1)?.status;
  const compartment = story?.compartment ?? [...reports].reverse().find((r) => r.compartment !== undefined)?.compartment;
  const state = story?.state ?? lastStatus;
  const cancellable = n.pickupId !== undefined && (state === undefined || !ENDED.has(state));
  return (
    <li class="notice" data-pickup={n.pickupId} data-message-id={n.messageId} data-outcome={n.outcome}>
      <p class="notice-head">
        <strong>{n.pickupId === undefined ? n.messageId : t('notices.pickup', { id: n.pickupId.slice(0, 8) })}</strong> · <span class={`outcome o-${n.outcome}`}>{t(`outcome.${n.outcome}`)}</span>
        {state === undefined ? null : (
          <>
            {' '}
            · <span data-pickup-state={state}>{t('notices.state', { state })}</span>
          </>
        )}
        {compartment === undefined ? null : (
          <>
            {' '}
            ·{' '}
            <button type="button" class="link" data-select={compartment} data-focus={`sel-${n.messageId}`}>
              {t('notices.compartment', { compartment })}
            </button>
          </>
        )}
      </p>
      <p class="notice-facts">
        {n.format.toUpperCase()} · {formatTime(c.lang, c.box.timeZone, n.sentAt)} · {n.boxId}
        {n.language === undefined ? '' : ` · ${t(`language.${n.language}`)}`}
        {n.accessible === true ? ` · ${t('notices.accessible')}` : ''}
      </p>
      {n.person === undefined ? null : (
        <p class="notice-facts" data-birth={printedDate(n.person.dateOfBirth)} data-phone={n.phone}>
          {t('notices.person', { name: n.person.name, dateOfBirth: printedDate(n.person.dateOfBirth), phone: n.phone })}
          {n.documents === undefined ? null : (
            <>
              {' · '}
              {t('notices.documents')}{' '}
              {n.documents.map((d, i) => (
                <>
                  {i > 0 ? ', ' : ''}
                  {d.type} <code data-serial={d.serialNumber}>{d.serialNumber}</code>
                </>
              ))}
            </>
          )}
        </p>
      )}
      {n.detail === undefined ? null : <p class="problem">{n.detail}</p>}
      {story === undefined || story.sms.length === 0 ? null : (
        <p class="notice-facts" data-sms-states>
          {t('notices.sms')} {story.sms.map((s) => t('notices.smsState', { kind: s.kind, status: s.status })).join(', ')}
        </p>
      )}
      <Reports c={c} reports={reports} story={story} />
      {refused === undefined ? null : <p class="problem">{t('notices.refused', { count: refused.count, answer: refused.answer })}</p>}
      {cancellable && n.pickupId !== undefined ? (
        <ApiButton api={`POST /api/pickups/${encodeURIComponent(n.pickupId)}/cancel`} class="small secondary" focus={`cancel-${n.pickupId}`} label={t('notices.cancelName', { id: n.pickupId.slice(0, 8) })}>
          {t('notices.cancel')}
        </ApiButton>
      ) : null}
    </li>
  );
};

const Reports: FC<{ c: ViewContext; reports: ReturnType<SimulatedWorld['reports']>[number][]; story?: MiddlewareSummary['pickups'][string] | undefined }> = ({ c, reports, story }) => {
  const { t } = c;
  const sorted = [...reports].sort((a, b) => a.seq - b.seq);
  const seen = new Set<number>();
  const waiting = (story?.reports ?? []).filter((r) => r.delivery !== 'delivered' && !reports.some((x) => x.seq === r.seq));
  if (sorted.length === 0 && waiting.length === 0) return <p class="hint">{t('reports.none')}</p>;
  return (
    <ol class="reports" aria-label={t('reports.title')}>
      {sorted.map((r) => {
        const repeat = seen.has(r.seq);
        seen.add(r.seq);
        return (
          <li data-report-status={r.status} data-seq={String(r.seq)}>
            <span class="seq">{r.seq}</span> <strong>{r.status}</strong> <span class="reason">{r.reason}</span>
            {r.compartment === undefined ? '' : ` · ${r.compartment}`} · <time datetime={r.receivedAt}>{formatTime(c.lang, c.box.timeZone, r.receivedAt)}</time>
            {repeat ? ` · ${t('reports.repeat')}` : ''}
          </li>
        );
      })}
      {waiting.map((r) => (
        <li class={r.delivery === 'dead' ? 'dead' : 'pending'} data-report-waiting={r.status}>
          <span class="seq">{r.seq}</span> <strong>{r.status}</strong> · {t(r.delivery === 'dead' ? 'reports.dead' : 'reports.pending')}
          {r.error === undefined ? '' : ` (${r.error})`}
        </li>
      ))}
    </ol>
  );
};

/* ---------------- how dokubox reacts ---------------- */

export function middlewarePart(c: ViewContext): Child {
  const { t, summary } = c;
  const alarms = c.world.boxes.flatMap((b) => (summary.boxes[b.id]?.alarms ?? []).map((a) => ({ ...a, boxId: b.id })));
  alarms.sort((a, b) => b.at.localeCompare(a.at));
  const q = summary.reportQueue;
  const count = (n: number | null): string => (n === null ? '–' : String(n));
  const webhooks = c.world.sms.seven.webhooks;
  return (
    <div>
      <p data-reachable={String(summary.reachable)} class={summary.reachable ? 'ok' : 'problem'}>
        {summary.reachable ? t('dokubox.reachable', { at: formatTime(c.lang, c.box.timeZone, summary.readAt) }) : t('dokubox.unreachable')}
      </p>
      {summary.problems.map((p) => (
        <p class="problem">
          {t(`dokubox.problem.${p.code}`)}
          {p.detail === undefined ? '' : ` ${p.detail}`}
        </p>
      ))}
      <h3>{t('dokubox.alarms')}</h3>
      {alarms.length === 0 ? (
        <p data-no-alarms>{t('dokubox.noAlarms')}</p>
      ) : (
        <ol class="alarms" data-alarms>
          {alarms.slice(0, 12).map((a) => (
            <li data-alarm={a.kind}>
              <strong>{a.kind}</strong> · <time datetime={a.at}>{formatTime(c.lang, c.box.timeZone, a.at)}</time>
              {a.compartment === undefined ? '' : ` · ${t('notices.compartment', { compartment: a.compartment })}`}
              {a.detail === undefined ? '' : ` · ${a.detail}`}
            </li>
          ))}
        </ol>
      )}
      <h3>{t('dokubox.reports')}</h3>
      <dl class="facts">
        <dt>{t('dokubox.pending')}</dt>
        <dd data-queue="pending">{count(q.pending)}</dd>
        <dt>{t('dokubox.deadLetters')}</dt>
        <dd data-queue="dead-letters">{count(q.deadLetters)}</dd>
        <dt>{t('dokubox.delivered')}</dt>
        <dd>{t('dokubox.totals', { delivered: count(q.delivered), dead: count(q.deadLettered) })}</dd>
      </dl>
      {summary.deadLetters.length === 0 ? null : (
        <ol class="dead-letters" aria-label={t('dokubox.deadLetters')}>
          {summary.deadLetters.map((d) => (
            <li data-dead-letter={d.pickupId}>
              {t('notices.pickup', { id: d.pickupId.slice(0, 8) })} · {d.seq ?? '?'} {d.status ?? ''} · {t('dokubox.attempts', { count: d.attempts })} · {t('dokubox.waiting', { count: d.waiting })} · {d.error}
            </li>
          ))}
        </ol>
      )}
      <h3>{t('dokubox.pickups')}</h3>
      <p>
        {Object.entries(summary.pickupStates)
          .filter(([, n]) => n > 0)
          .map(([state, n]) => `${state} ${n}`)
          .join(' · ') || '–'}
      </p>
      <h3>{t('dokubox.simulators')}</h3>
      <ul class="plain">
        <li>{t('dokubox.smsGateway', { requests: c.world.sms.seven.requests, reports: webhooks.length, failed: webhooks.filter((w) => w.status === 'error' || (typeof w.status === 'number' && w.status >= 300)).length })}</li>
        <li>{t('dokubox.callbacks', { attempts: c.world.callbacks.attempts.length, refused: c.world.callbacks.attempts.filter((a) => a.answer !== 'ok').length })}</li>
      </ul>
    </div>
  );
}
