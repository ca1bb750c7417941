/**
 * Prometheus metrics (prom-client) on a registry of our own. Gauges of
 * pickups and compartments are read from Redis at scrape time, so every
 * instance reports the same totals. Labels carry states, box ids and routes,
 * never personal data.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BoxDefinition } from './core/box.js';
import { PICKUP_STATES } from './core/pickup.js';
import type { PickupStore } from './store/pickup-store.js';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  jobs: Counter<'queue' | 'outcome'>;
  alarms: Counter<'box' | 'kind'>;
  caseReports: Counter<'outcome'>;
  /** Registers the source of the case-report queue gauges. */
  trackCaseReports(read: () => Promise<{ jobs: number; deadLetters: number }>): void;
}

export function createMetrics(deps: { store: PickupStore; boxes: ReadonlyMap<string, BoxDefinition>; defaultMetrics?: boolean }): Metrics {
  const registry = new Registry();
  if (deps.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'dokubox_' });

  const httpDuration = new Histogram({
    name: 'dokubox_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const jobs = new Counter({
    name: 'dokubox_jobs_total',
    help: 'Background jobs by queue and outcome',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });

  const alarms = new Counter({
    name: 'dokubox_alarms_total',
    help: 'Staff alarms raised by box and kind',
    labelNames: ['box', 'kind'] as const,
    registers: [registry],
  });

  new Gauge({
    name: 'dokubox_pickups',
    help: 'Pickups by state (open states: current count; ended states: total since the data began)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const stats = await deps.store.stats();
      for (const state of PICKUP_STATES) this.set({ state }, stats.pickups[state] ?? 0);
    },
  });

  new Gauge({
    name: 'dokubox_compartments',
    help: 'Compartments by box and state',
    labelNames: ['box', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const box of deps.boxes.values()) {
        const counts: Record<string, number> = { free: 0, reserved: 0, occupied: 0, retrieval: 0, defective: 0 };
        for (const c of await deps.store.listCompartments(box)) counts[c.state] = (counts[c.state] ?? 0) + 1;
        for (const [state, value] of Object.entries(counts)) this.set({ box: box.id, state }, value);
      }
    },
  });

  const caseReports = new Counter({
    name: 'dokubox_case_reports_total',
    help: 'Status reports to the case system by outcome (delivered, dead_letter)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  let readCaseReports: (() => Promise<{ jobs: number; deadLetters: number }>) | undefined;
  new Gauge({
    name: 'dokubox_case_report_queue',
    help: 'Case-system report queue: pending jobs and dead letters',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      if (readCaseReports === undefined) return;
      const counts = await readCaseReports();
      this.set({ kind: 'pending' }, counts.jobs);
      this.set({ kind: 'dead_letters' }, counts.deadLetters);
    },
  });

  return {
    registry,
    httpDuration,
    jobs,
    alarms,
    caseReports,
    trackCaseReports: (read) => {
      readCaseReports = read;
    },
  };
}
