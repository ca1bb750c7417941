/**
 * What a scenario run reports: counts, latency percentiles and the broken
 * invariants, as JSON (`--json`) and as text for people.
 */
import { INVARIANTS, type Violation } from './invariants.js';

export interface Percentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface ScenarioReport {
  scenario: string;
  file?: string;
  /** `simulated`: the middleware ran on the world clock; `wall`: on wall time (the script alone followed `speed`). */
  time: 'simulated' | 'wall';
  speed: number;
  seed: number;
  start: string;
  end: string;
  realSeconds: number;
  instances: number;
  kills: number;
  notices: { sent: number; created: number; duplicate: number; refused: number; error: number; resends: number };
  /** Pickups that got a compartment (at once or from the waiting list). */
  reservations: number;
  /** Pickups that had to wait for a compartment, and the longest waiting list seen. */
  waiting: { pickups: number; longestList: number };
  sms: { inbox: Record<string, number>; byStatus: Record<string, number> };
  pickups: { total: number; byState: Record<string, number> };
  handovers: number;
  expiries: number;
  /** Pickups that went through `fault`, and the fault switches of the run in order. */
  faults: { pickups: number; switched: { at: string; kind: string; target: string; on: boolean }[] };
  /** Leftovers cancelled at the end (instead of expired). */
  cancelled: number;
  /** New codes staff issued because an SMS with a code failed (sms_failed alarm). */
  newCodes: number;
  /** Pickups staff put into another compartment because its door did not open for loading. */
  reassigned: number;
  latencies: {
    /** Scenario time from sending the notice to `reserved` (includes time on the waiting list). */
    noticeToReserved: Percentiles;
    /** Scenario time from `loaded` to the gateway accepting the SMS (`notified`): includes quiet hours and outages. */
    loadedToSmsAccepted: Percentiles;
    /** Real time from the applicant's entries to the lock pulse. */
    codeToDoorOpen: Percentiles;
  };
  notes: string[];
  violations: Violation[];
}

export function percentiles(samples: number[]): Percentiles {
  const sorted = samples.filter((s) => Number.isFinite(s)).sort((a, b) => a - b);
  const at = (q: number): number | null => (sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number));
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? null };
}

function duration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const counts = (record: Record<string, number>): string =>
  Object.entries(record)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

export function formatReport(r: ScenarioReport): string {
  const p = (x: Percentiles): string => `p50 ${duration(x.p50)}  p90 ${duration(x.p90)}  p99 ${duration(x.p99)}  (n=${x.count})`;
  const lines = [
    `Scenario: ${r.scenario}${r.file === undefined ? '' : ` (${r.file})`}`,
    `  time ${r.time}, speed ${r.speed}x, seed ${r.seed}; ${r.start} to ${r.end}; ${r.realSeconds.toFixed(1)} s real; ${r.instances} instance(s), ${r.kills} killed`,
    `  notices      sent ${r.notices.sent}: created ${r.notices.created}, duplicate ${r.notices.duplicate}, refused ${r.notices.refused}, error ${r.notices.error}; resent ${r.notices.resends} times`,
    `  reservations ${r.reservations}; waited ${r.waiting.pickups} (longest waiting list ${r.waiting.longestList})`,
    `  SMS          in the phones: ${counts(r.sms.inbox)}; at the middleware: ${counts(r.sms.byStatus)}`,
    `  pickups      ${r.pickups.total}: ${counts(r.pickups.byState)}; handed over ${r.handovers}, expired ${r.expiries}, faults ${r.faults.pickups}, cancelled at the end ${r.cancelled}${r.newCodes > 0 ? `, new codes after a failed SMS ${r.newCodes}` : ''}${r.reassigned > 0 ? `, into another compartment after a failed loading ${r.reassigned}` : ''}`,
    `  faults       ${r.faults.switched.length === 0 ? 'none' : r.faults.switched.map((f) => `${f.at} ${f.kind}${f.target === '' ? '' : `(${f.target})`} ${f.on ? 'on' : 'off'}`).join('; ')}`,
    '  latencies',
    `    notice to reserved        ${p(r.latencies.noticeToReserved)}`,
    `    loaded to SMS accepted    ${p(r.latencies.loadedToSmsAccepted)}`,
    `    code to door open         ${p(r.latencies.codeToDoorOpen)}`,
    ...r.notes.map((n) => `  note: ${n}`),
  ];
  const broken = new Set(r.violations.map((v) => v.invariant));
  lines.push('  invariants');
  for (const [name, text] of Object.entries(INVARIANTS)) lines.push(`    ${broken.has(name as keyof typeof INVARIANTS) ? 'BROKEN' : 'ok    '} ${text}`);
  if (r.violations.length > 0) {
    lines.push(`  ${r.violations.length} violation(s):`);
    for (const v of r.violations.slice(0, 50)) lines.push(`    - ${v.invariant}${v.pickupId === undefined ? '' : ` pickup ${v.pickupId}`}: ${v.detail}`);
    if (r.violations.length > 50) lines.push(`    ... and ${r.violations.length - 50} more (all in the JSON report)`);
  }
  return `${lines.join('\n')}\n`;
}
