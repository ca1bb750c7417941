/**
 * Statistics per box and local day for the office's dashboard (issue 11):
 * notices, pickups collected, expiries, cancellations, notices that had to
 * wait for a compartment, SMS outcomes, and the time from the ready SMS
 * (pickup `notified`) to `collected`.
 *
 * One hash per box and day in the box's time zone (the day of the event's
 * `at`). The store's scripts count each event in the same atomic step that
 * records it (src/store/scripts.ts: INGEST a notice and whether it waited,
 * TRANSITION the end of a pickup with its notified-to-collected sample,
 * ANNOTATE an SMS outcome), so each count is made exactly once and needs
 * neither a marker nor a consumer of the event stream; src/core/statistics.ts
 * decides what counts. This module reads: rows per day, or ISO weeks
 * aggregated from days when read (the median of all samples of the week).
 * See docs/statistics.md.
 */
import type { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import { DokuboxError } from '../core/errors.js';
import { COUNTERS, STATS_TTL_DAYS, type Counter } from '../core/statistics.js';

export { COUNTERS, STATS_MAX_SAMPLES_PER_DAY, STATS_TTL_DAYS, type Counter } from '../core/statistics.js';
/** The longest range a query may ask for, in days (from and to included). */
export const STATS_MAX_RANGE_DAYS = 400;

export type Granularity = 'day' | 'week';

export interface StatisticsQuery {
  /** First local day, YYYY-MM-DD (included). */
  from: string;
  /** Last local day, YYYY-MM-DD (included). */
  to: string;
  granularity: Granularity;
}

export interface StatisticsRow {
  /** YYYY-MM-DD, or the ISO week YYYY-Www. */
  period: string;
  notices: number;
  collected: number;
  expired: number;
  cancelled: number;
  waited: number;
  /** waited / notices; null without notices. */
  waitedShare: number | null;
  /** Median minutes from notified to collected of the pickups collected in the period; null without any. */
  medianMinutesToPickup: number | null;
  smsDelivered: number;
  smsUndeliverable: number;
  smsFailed: number;
  /** delivered / (delivered + undeliverable + failed); null without any outcome. */
  smsDeliveryRate: number | null;
}

/** The columns of a row, in order (the CSV header). */
export const ROW_COLUMNS = [
  'period',
  'notices',
  'collected',
  'expired',
  'cancelled',
  'waited',
  'waitedShare',
  'medianMinutesToPickup',
  'smsDelivered',
  'smsUndeliverable',
  'smsFailed',
  'smsDeliveryRate',
] as const satisfies readonly (keyof StatisticsRow)[];

export interface StatisticsOptions {
  redis: Redis;
  ns: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

export class Statistics {
  constructor(private readonly o: StatisticsOptions) {}

  private dayKey(boxId: string, day: string): string {
    return `${this.o.ns}:stats:day:${boxId}:${day}`;
  }

  /** The rows of a box from `from` to `to` (local days, both included), per day or ISO week; a row for every period. */
  async getStatistics(boxId: string, query: StatisticsQuery): Promise<StatisticsRow[]> {
    const days = daysBetween(query.from, query.to);
    const pipeline = this.o.redis.pipeline();
    for (const day of days) {
      pipeline.hgetall(this.dayKey(boxId, day));
      pipeline.lrange(`${this.dayKey(boxId, day)}:durations`, 0, -1);
    }
    const replies = (await pipeline.exec()) ?? [];
    const periods = new Map<string, { counts: Record<Counter, number>; samples: number[] }>();
    days.forEach((day, i) => {
      const [hashError, hash] = replies[2 * i] ?? [new Error('no reply'), null];
      const [listError, list] = replies[2 * i + 1] ?? [new Error('no reply'), null];
      if (hashError) throw hashError;
      if (listError) throw listError;
      const period = query.granularity === 'week' ? isoWeekOf(day) : day;
      let bucket = periods.get(period);
      if (bucket === undefined) {
        bucket = { counts: Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>, samples: [] };
        periods.set(period, bucket);
      }
      const fields = hash as Record<string, string>;
      for (const counter of COUNTERS) bucket.counts[counter] += Number(fields[counter] ?? 0);
      for (const sample of list as string[]) bucket.samples.push(Number(sample));
    });
    return [...periods].map(([period, { counts, samples }]) => rowOf(period, counts, samples));
  }
}

function rowOf(period: string, c: Record<Counter, number>, samples: number[]): StatisticsRow {
  const smsOutcomes = c.smsDelivered + c.smsUndeliverable + c.smsFailed;
  const median = medianOf(samples);
  return {
    period,
    notices: c.notices,
    collected: c.collected,
    expired: c.expired,
    cancelled: c.cancelled,
    waited: c.waited,
    waitedShare: c.notices === 0 ? null : round(c.waited / c.notices, 4),
    medianMinutesToPickup: median === undefined ? null : round(median / 60, 1),
    smsDelivered: c.smsDelivered,
    smsUndeliverable: c.smsUndeliverable,
    smsFailed: c.smsFailed,
    smsDeliveryRate: smsOutcomes === 0 ? null : round(c.smsDelivered / smsOutcomes, 4),
  };
}

export function medianOf(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** The ISO week of a date, YYYY-Www (the week-numbering year: 2026-12-31 is 2026-W53, 2027-01-01 too). */
export function isoWeekOf(day: string): string {
  const date = DateTime.fromISO(day, { zone: 'utc' });
  return `${date.weekYear}-W${String(date.weekNumber).padStart(2, '0')}`;
}

/** Every date from `from` to `to`, both included. */
function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** A real calendar date YYYY-MM-DD, or a 400 naming the parameter. */
function dateParameter(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new DokuboxError('VALIDATION_FAILED', `The query parameter '${name}' is missing: give a date as YYYY-MM-DD.`, { field: name });
  if (!DATE.test(value) || !DateTime.fromISO(value, { zone: 'utc' }).isValid) {
    throw new DokuboxError('VALIDATION_FAILED', `The query parameter '${name}' is not a date: give a real calendar date as YYYY-MM-DD.`, { field: name });
  }
  return value;
}

/** Checks the query parameters of a statistics request; a 400 (VALIDATION_FAILED) names the first bad one. */
export function parseStatisticsQuery(params: { from?: string | undefined; to?: string | undefined; granularity?: string | undefined }): StatisticsQuery {
  const from = dateParameter('from', params.from);
  const to = dateParameter('to', params.to);
  const granularity = params.granularity ?? 'day';
  if (granularity !== 'day' && granularity !== 'week') {
    throw new DokuboxError('VALIDATION_FAILED', "The query parameter 'granularity' must be 'day' or 'week'.", { field: 'granularity' });
  }
  if (from > to) throw new DokuboxError('VALIDATION_FAILED', `The range ends before it starts: 'from' (${from}) must not be after 'to' (${to}).`, { field: 'from' });
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
  if (days > STATS_MAX_RANGE_DAYS) {
    throw new DokuboxError('VALIDATION_FAILED', `The range has ${days} days; ask for at most ${STATS_MAX_RANGE_DAYS} (the statistics are kept ${STATS_TTL_DAYS} days).`, { field: 'to' });
  }
  return { from, to, granularity };
}
