/**
 * Statistics per box and local day for the office's dashboard (issue 11):
 * notices, pickups collected, expiries, cancellations, notices that had to
 * wait for a compartment, SMS outcomes, and the time from the ready SMS
 * (pickup `notified`) to `collected`.
 *
 * One hash per box and day in the box's time zone (the day of the event's
 * `at`). Notices (and whether they waited) are counted by the ingest script
 * itself, exactly once, when the pickup is created (src/store/scripts.ts
 * INGEST). Everything later is counted by a durable event-stream subscriber
 * (`stats`), which also keeps the notified-to-collected durations of a day in
 * a bounded list. The stream delivers at least once, so each count is made
 * once per event: one Lua script sets the event's marker (`HSETNX` of its seq
 * in the pickup's marker hash) and increments only when the marker was new.
 * Weeks are aggregated from days when read (the median of all samples of the
 * week). See docs/statistics.md.
 */
import type { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import type { BoxDefinition } from '../core/box.js';
import { localDayOf } from '../core/local-day.js';
import { DokuboxError } from '../core/errors.js';
import type { PickupEvent } from '../core/events.js';
import type { EventSubscriber } from '../service/types.js';

/** Day keys live this long after their last count (a year and a bit: last year's same month stays comparable). */
export const STATS_TTL_DAYS = 400;
/** Per-pickup markers of counted events: far longer than any redelivery of the stream. */
export const STATS_MARKER_TTL_DAYS = 30;
/** At most this many notified-to-collected samples per box and day (a box serves far fewer). */
export const STATS_MAX_SAMPLES_PER_DAY = 10_000;
/** The longest range a query may ask for, in days (from and to included). */
export const STATS_MAX_RANGE_DAYS = 400;
/** Boxes that are no longer configured are counted in this zone. */
const FALLBACK_TIME_ZONE = 'Europe/Berlin';

export const COUNTERS = ['notices', 'waited', 'collected', 'expired', 'cancelled', 'smsDelivered', 'smsUndeliverable', 'smsFailed'] as const;
export type Counter = (typeof COUNTERS)[number];

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

/**
 * KEYS: none (key names are built from ARGV, as in the other scripts).
 * ARGV: ns, markerTtlSeconds, dayTtlSeconds, maxSamples, then per event six
 * values: pickupId, seq, box, day, durationSeconds ('' for none), counters
 * (comma-separated). Counts each event whose marker was new; a day key's TTL
 * is renewed once per call. Returns the number of events counted.
 */
const COUNT_LUA = `
local ns = ARGV[1]
local markerTtl, dayTtl, maxSamples = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local counted = 0
local touched = {}
for i = 5, #ARGV, 6 do
  local pickup, seq, box, day, duration, counters = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local marker = ns .. ':stats:seen:' .. pickup
  if redis.call('HSETNX', marker, seq, '1') == 1 then
    redis.call('EXPIRE', marker, markerTtl)
    local dayKey = ns .. ':stats:day:' .. box .. ':' .. day
    for counter in string.gmatch(counters, '[^,]+') do redis.call('HINCRBY', dayKey, counter, 1) end
    touched[dayKey] = true
    if duration ~= '' then
      local samples = dayKey .. ':durations'
      if redis.call('LLEN', samples) < maxSamples then redis.call('RPUSH', samples, duration) end
      redis.call('EXPIRE', samples, dayTtl)
    end
    counted = counted + 1
  end
end
for dayKey in pairs(touched) do redis.call('EXPIRE', dayKey, dayTtl) end
return counted
`;

type CountFn = (...args: (string | number)[]) => Promise<number>;

export interface StatisticsOptions {
  redis: Redis;
  ns: string;
  boxes: ReadonlyMap<string, BoxDefinition>;
  /** A pickup's events in seq order (PickupStore.history): the notified time when its collected event arrives. */
  history: (pickupId: string) => Promise<PickupEvent[]>;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

export class Statistics {
  private readonly count: CountFn;

  constructor(private readonly o: StatisticsOptions) {
    const command = 'dokubox_stats_count';
    if (!(command in o.redis)) o.redis.defineCommand(command, { numberOfKeys: 0, lua: COUNT_LUA });
    const fn = (o.redis as unknown as Record<string, CountFn>)[command];
    if (fn === undefined) throw new Error('script stats_count was not registered');
    this.count = fn.bind(o.redis);
  }

  attach(events: EventSubscriber): void {
    // A batch of events in one script call where the stream offers it (one round trip for many events).
    if (events.subscribeBatch !== undefined) {
      events.subscribeBatch('stats', async (batch) => {
        await this.onEvents(batch);
      });
    } else {
      events.subscribe('stats', async (event) => {
        await this.onEvent(event);
      });
    }
  }

  private dayKey(boxId: string, day: string): string {
    return `${this.o.ns}:stats:day:${boxId}:${day}`;
  }

  /** The local day (YYYY-MM-DD) of an event in its box's time zone. */
  dayOf(event: Pick<PickupEvent, 'boxId' | 'at'>): string {
    return localDayOf(this.o.boxes.get(event.boxId)?.timeZone ?? FALLBACK_TIME_ZONE, event.at);
  }

  /**
   * What an event adds to its day; empty for events that are not counted here. A `pickup.created`
   * event adds nothing: the ingest script counted its notice (and the wait) when it created the pickup.
   */
  static countersOf(event: PickupEvent): Counter[] {
    if (event.type === 'pickup.transitioned') {
      if (event.to === 'collected') return ['collected'];
      if (event.to === 'expired') return ['expired'];
      if (event.to === 'cancelled') return ['cancelled'];
      return [];
    }
    if (event.type === 'pickup.sms') {
      if (event.reason === 'sms_delivered') return ['smsDelivered'];
      if (event.reason === 'sms_undeliverable') return ['smsUndeliverable'];
      if (event.reason === 'sms_failed') return ['smsFailed'];
    }
    return [];
  }

  /**
   * Counts one event, once however often it is delivered. Returns whether
   * this delivery counted (false: not a counted event, or counted before).
   */
  async onEvent(event: PickupEvent): Promise<boolean> {
    return (await this.onEvents([event])) === 1;
  }

  /** Counts a batch of events in one script call (each once, however often delivered); returns how many counted now. */
  async onEvents(events: PickupEvent[]): Promise<number> {
    const args: (string | number)[] = [this.o.ns, STATS_MARKER_TTL_DAYS * 86_400, STATS_TTL_DAYS * 86_400, STATS_MAX_SAMPLES_PER_DAY];
    for (const event of events) {
      const counters = Statistics.countersOf(event);
      if (counters.length === 0) continue;
      const duration = event.to === 'collected' && event.type === 'pickup.transitioned' ? await this.secondsSinceNotified(event) : undefined;
      args.push(event.pickupId, event.seq, event.boxId, this.dayOf(event), duration === undefined ? '' : duration, counters.join(','));
    }
    if (args.length === 4) return 0;
    return Number(await this.count(...args));
  }

  /** Seconds from the pickup's last `notified` before this event to this event; undefined when its history is gone or it was never notified. */
  private async secondsSinceNotified(event: PickupEvent): Promise<number | undefined> {
    const history = await this.o.history(event.pickupId);
    const notified = history.filter((e) => e.type === 'pickup.transitioned' && e.to === 'notified' && e.seq < event.seq).at(-1);
    if (notified === undefined) return undefined;
    const seconds = Math.round((Date.parse(event.at) - Date.parse(notified.at)) / 1000);
    return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
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
