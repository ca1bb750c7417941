/**
 * The invariants a scenario run must hold, as pure functions over what the
 * runner recorded (the world's view: notices and their answers, the case
 * system's reports, the phones' inboxes, every unlock of a lock board, the
 * runner's own door requests) and what the middleware says at the end (each
 * pickup's timeline). Every violation names the pickup and what was wrong.
 */
import { reportFor } from '../../src/case-system/reports.js';
import type { PickupEvent } from '../../src/core/events.js';

export const INVARIANTS = {
  'notice-lost': 'no notice lost',
  'pickup-twice': 'no pickup twice (one pickup per notice, one handover per pickup)',
  'sms-twice': 'no SMS of a kind twice for a pickup',
  'compartment-shared': 'no compartment given to two live pickups',
  'door-without-authorization': 'no door opened without a verified code or a staff action',
  'not-final': 'every pickup in a final state at the end',
  'report-incomplete': 'every pickup reported to the case system, complete and in order',
  'personal-data-in-log': 'no personal data in any log line',
} as const;
export type InvariantName = keyof typeof INVARIANTS;

export interface Violation {
  invariant: InvariantName;
  /** The pickup concerned, when there is one. */
  pickupId?: string;
  detail: string;
}

/** A notice the case system sent and every answer it got (resends included). */
export interface NoticeRecord {
  messageId: string;
  answers: { outcome: 'created' | 'duplicate' | 'refused' | 'error'; pickupId?: string; detail?: string }[];
}

export interface TimelineEvent {
  seq: number;
  type: string;
  from: string | null;
  to: string;
  reason: string;
  at: string;
  compartment: string | null;
}

/** A pickup as the middleware tells it at the end (GET /v1/pickups/{id}/story); `state` undefined: the middleware does not know it. */
export interface PickupRecord {
  id: string;
  messageId: string;
  boxId: string;
  state?: string;
  timeline: TimelineEvent[];
}

export interface ReportRecord {
  eventId: string;
  pickupId: string;
  seq: number;
  status: string;
}

export interface SmsRecord {
  /** `pickupId.kind[.generation]` as the middleware sets it; absent: an SMS the runner cannot attribute. */
  foreignId?: string;
  to: string;
}

/** A lock pulse seen at the emulated board; `at` in real milliseconds (performance.now()). */
export interface UnlockRecord {
  box: string;
  compartment: string;
  at: number;
  opened: boolean;
}

/** A request of the runner that may open a door: an applicant's code at the kiosk or a staff action. */
export interface DoorRequest {
  box: string;
  compartment: string;
  pickupId?: string;
  by: 'code' | 'staff';
  start: number;
  end: number;
  /** `opened`: 200; `refused`: an answer that opens nothing (4xx, a door fault); `lost`: no answer (the instance died): the door may have opened. */
  outcome: 'opened' | 'refused' | 'lost';
}

export interface Recording {
  notices: NoticeRecord[];
  pickups: PickupRecord[];
  /** Status reports as the case system received them, in arrival order. */
  reports: ReportRecord[];
  sms: SmsRecord[];
  unlocks: UnlockRecord[];
  doorRequests: DoorRequest[];
  /** The applicant took the document out (one per pickup at most). */
  handovers: { pickupId: string }[];
  /** Staff opened a compartment to load a pickup and found a document inside. */
  occupiedAtLoading: { pickupId: string; box: string; compartment: string }[];
  logs: { source: string; line: string }[];
  secrets: { names: string[]; phones: string[]; datesOfBirth: string[]; codes: string[] };
}

export const FINAL_STATES = new Set(['collected', 'returned', 'cancelled']);

/** How long after its answer a lost request's door may still open (the instance that drives the box got the relayed command). */
export const LOST_REQUEST_GRACE_MS = 15_000;

export function noticesKept(r: Recording): Violation[] {
  const out: Violation[] = [];
  const known = new Map(r.pickups.map((p) => [p.id, p]));
  for (const notice of r.notices) {
    const ids = new Set(notice.answers.flatMap((a) => (a.pickupId === undefined ? [] : [a.pickupId])));
    if (ids.size === 0) {
      const last = notice.answers.at(-1);
      out.push({ invariant: 'notice-lost', detail: `notice ${notice.messageId} never got a pickup (last answer: ${last?.outcome ?? 'none'}${last?.detail === undefined ? '' : `, ${last.detail}`})` });
      continue;
    }
    for (const id of ids) if (known.get(id)?.state === undefined) out.push({ invariant: 'notice-lost', pickupId: id, detail: `notice ${notice.messageId} was answered with pickup ${id}, which the middleware does not know at the end` });
  }
  return out;
}

export function noPickupTwice(r: Recording): Violation[] {
  const out: Violation[] = [];
  for (const notice of r.notices) {
    const ids = [...new Set(notice.answers.flatMap((a) => (a.pickupId === undefined ? [] : [a.pickupId])))];
    if (ids.length > 1) out.push({ invariant: 'pickup-twice', pickupId: ids[1], detail: `notice ${notice.messageId} made ${ids.length} pickups: ${ids.join(', ')}` });
  }
  const byMessage = new Map<string, string[]>();
  for (const p of r.pickups) byMessage.set(p.messageId, [...(byMessage.get(p.messageId) ?? []), p.id]);
  for (const [messageId, ids] of byMessage) if (ids.length > 1) out.push({ invariant: 'pickup-twice', pickupId: ids[1], detail: `message ${messageId} has ${ids.length} pickups: ${ids.join(', ')}` });
  const handed = new Map<string, number>();
  for (const h of r.handovers) handed.set(h.pickupId, (handed.get(h.pickupId) ?? 0) + 1);
  for (const [pickupId, count] of handed) if (count > 1) out.push({ invariant: 'pickup-twice', pickupId, detail: `the document was handed over ${count} times` });
  return out;
}

export function smsOncePerKind(r: Recording): Violation[] {
  const counts = new Map<string, number>();
  for (const sms of r.sms) if (sms.foreignId !== undefined) counts.set(sms.foreignId, (counts.get(sms.foreignId) ?? 0) + 1);
  const out: Violation[] = [];
  for (const [foreignId, count] of counts) {
    if (count < 2) continue;
    const dot = foreignId.indexOf('.');
    const pickupId = decodeURIComponent(dot < 0 ? foreignId : foreignId.slice(0, dot));
    out.push({ invariant: 'sms-twice', pickupId, detail: `the ${dot < 0 ? '?' : foreignId.slice(dot + 1)} SMS reached the phone ${count} times` });
  }
  return out;
}

/** Each pickup's stays in compartments: from the first event naming it to the event that ends the stay. */
function stays(p: PickupRecord): { compartment: string; from: number; to: number }[] {
  const out: { compartment: string; from: number; to: number }[] = [];
  let current: { compartment: string; from: number } | undefined;
  for (const e of p.timeline) {
    const at = Date.parse(e.at);
    // The document left or never came: the stay ends (expired keeps the compartment until staff empty it).
    const leaves = e.compartment === null || e.compartment !== current?.compartment || ['collected', 'returned', 'cancelled', 'fault', 'waiting'].includes(e.to);
    if (current !== undefined && leaves) {
      out.push({ ...current, to: at });
      current = undefined;
    }
    if (e.compartment !== null && current === undefined && !['collected', 'returned', 'cancelled', 'fault', 'waiting'].includes(e.to)) current = { compartment: e.compartment, from: at };
  }
  if (current !== undefined) out.push({ ...current, to: Number.POSITIVE_INFINITY });
  return out;
}

export function compartmentsNotShared(r: Recording): Violation[] {
  const out: Violation[] = [];
  const byCompartment = new Map<string, { pickupId: string; from: number; to: number }[]>();
  for (const p of r.pickups) {
    for (const s of stays(p)) {
      const key = `${p.boxId}/${s.compartment}`;
      byCompartment.set(key, [...(byCompartment.get(key) ?? []), { pickupId: p.id, from: s.from, to: s.to }]);
    }
  }
  for (const [key, list] of byCompartment) {
    list.sort((a, b) => a.from - b.from);
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1] as { pickupId: string; from: number; to: number };
      const now = list[i] as { pickupId: string; from: number; to: number };
      if (now.from < before.to) out.push({ invariant: 'compartment-shared', pickupId: now.pickupId, detail: `compartment ${key} was given to it at ${new Date(now.from).toISOString()} while pickup ${before.pickupId} still held it` });
    }
  }
  for (const o of r.occupiedAtLoading) out.push({ invariant: 'compartment-shared', pickupId: o.pickupId, detail: `staff opened compartment ${o.box}/${o.compartment} to load it and found another document inside` });
  return out;
}

export function doorsOnlyWhenAuthorized(r: Recording): Violation[] {
  const out: Violation[] = [];
  for (const unlock of r.unlocks) {
    if (!unlock.opened) continue;
    const authorized = r.doorRequests.some(
      (d) => d.box === unlock.box && d.compartment === unlock.compartment && d.start <= unlock.at && (d.outcome === 'opened' ? unlock.at <= d.end + 1000 : d.outcome === 'lost' ? unlock.at <= d.end + LOST_REQUEST_GRACE_MS : false),
    );
    if (authorized) continue;
    const holder = [...r.doorRequests].reverse().find((d) => d.box === unlock.box && d.compartment === unlock.compartment && d.start <= unlock.at)?.pickupId;
    const refused = r.doorRequests.find((d) => d.box === unlock.box && d.compartment === unlock.compartment && d.start <= unlock.at && unlock.at <= d.end + 1000 && d.outcome === 'refused');
    out.push({
      invariant: 'door-without-authorization',
      ...(holder === undefined ? {} : { pickupId: holder }),
      detail: `compartment ${unlock.box}/${unlock.compartment} opened ${refused === undefined ? 'while nobody had asked for it' : `although the ${refused.by === 'code' ? 'kiosk refused the code' : 'staff request was refused'}`}`,
    });
  }
  return out;
}

export function allFinal(r: Recording): Violation[] {
  return r.pickups.filter((p) => p.state !== undefined && !FINAL_STATES.has(p.state)).map((p) => ({ invariant: 'not-final' as const, pickupId: p.id, detail: `still ${p.state} at the end` }));
}

/** The reports a pickup's timeline calls for, in seq order (the middleware's own rule: src/case-system/reports.ts). */
export function expectedReports(p: PickupRecord): { seq: number; status: string }[] {
  return p.timeline.flatMap((e) => {
    const event = { ...e, eventId: `${p.id}:${e.seq}`, pickupId: p.id, messageId: p.messageId, authority: '', boxId: p.boxId, actor: 'system' } as unknown as PickupEvent;
    const report = reportFor(event);
    return report === undefined ? [] : [{ seq: e.seq, status: report.status }];
  });
}

export function reportsCompleteInOrder(r: Recording): Violation[] {
  const out: Violation[] = [];
  const received = new Map<string, ReportRecord[]>();
  for (const report of r.reports) received.set(report.pickupId, [...(received.get(report.pickupId) ?? []), report]);
  for (const p of r.pickups) {
    if (p.state === undefined) continue;
    const expected = expectedReports(p);
    const seen = new Set<string>();
    const first = (received.get(p.id) ?? []).filter((x) => !seen.has(x.eventId) && seen.add(x.eventId));
    const missing = expected.filter((e) => !first.some((x) => x.seq === e.seq));
    if (missing.length > 0) {
      out.push({ invariant: 'report-incomplete', pickupId: p.id, detail: `the case system never got ${missing.map((m) => `${m.status} (seq ${m.seq})`).join(', ')}` });
      continue;
    }
    const wrong = first.find((x) => expected.find((e) => e.seq === x.seq)?.status !== x.status);
    if (wrong !== undefined) {
      out.push({ invariant: 'report-incomplete', pickupId: p.id, detail: `report seq ${wrong.seq} said ${wrong.status}, the pickup's history says ${expected.find((e) => e.seq === wrong.seq)?.status ?? 'nothing reportable'}` });
      continue;
    }
    const outOfOrder = first.findIndex((x, i) => i > 0 && x.seq < (first[i - 1] as ReportRecord).seq);
    if (outOfOrder > 0) out.push({ invariant: 'report-incomplete', pickupId: p.id, detail: `reports arrived out of order: seq ${(first[outOfOrder - 1] as ReportRecord).seq} before seq ${(first[outOfOrder] as ReportRecord).seq}` });
  }
  return out;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One pattern per secret, never inside a longer word, number or id. */
function secretPatterns(secrets: Recording['secrets']): { kind: string; pattern: RegExp }[] {
  const patterns: { kind: string; pattern: RegExp }[] = [];
  const words = (kind: string, list: string[]): void => {
    for (const value of new Set(list)) if (value.trim().length >= 3) patterns.push({ kind, pattern: new RegExp(`(?<![\\p{L}\\p{N}])${escape(value)}(?![\\p{L}\\p{N}])`, 'u') });
  };
  // Not inside a longer number or an id (a request id's hex can hold six digits in a row).
  const digits = (kind: string, list: string[]): void => {
    for (const value of new Set(list)) if (value.length >= 4) patterns.push({ kind, pattern: new RegExp(`(?<![\\p{L}\\p{N}])${escape(value)}(?![\\p{L}\\p{N}])`, 'u') });
  };
  words('name', secrets.names);
  digits('phone number', secrets.phones);
  digits('date of birth', secrets.datesOfBirth);
  digits('code', secrets.codes);
  return patterns;
}

/** The pickup a log line is about (pino's `pickupId` field), to name it. */
function pickupOfLine(line: string): string | undefined {
  return /"pickupId"\s*:\s*"([^"]+)"/.exec(line)?.[1];
}

export function noPersonalDataInLogs(r: Recording): Violation[] {
  const patterns = secretPatterns(r.secrets);
  const scrub = (line: string): string => patterns.reduce((text, { pattern }) => text.replace(new RegExp(pattern.source, `${pattern.flags}g`), '«removed»'), line);
  const out: Violation[] = [];
  for (const { source, line } of r.logs) {
    for (const { kind, pattern } of patterns) {
      if (!pattern.test(line)) continue;
      const pickupId = pickupOfLine(line);
      // Name the kind and where, never the value: the report must not leak it either.
      out.push({ invariant: 'personal-data-in-log', ...(pickupId === undefined ? {} : { pickupId }), detail: `a ${kind} in a log line of ${source}: ${scrub(line).slice(0, 200)}` });
      break;
    }
  }
  return out;
}

/** Every check, in the order of the issue's list. */
export function checkInvariants(r: Recording): Violation[] {
  return [...noticesKept(r), ...noPickupTwice(r), ...smsOncePerKind(r), ...compartmentsNotShared(r), ...doorsOnlyWhenAuthorized(r), ...allFinal(r), ...reportsCompleteInOrder(r), ...noPersonalDataInLogs(r)];
}
