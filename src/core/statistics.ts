/**
 * What the statistics per box and local day count (docs/statistics.md),
 * decided here and counted by the store's scripts in the same atomic step
 * that records the event (src/store/scripts.ts): a notice by INGEST, the end
 * of a pickup by TRANSITION, an SMS outcome by ANNOTATE. Pure.
 */
import type { PickupState } from './pickup.js';
import type { SmsEventReason } from './events.js';

/** Day keys live this long after their last count (a year and a bit: last year's same month stays comparable). */
export const STATS_TTL_DAYS = 400;
/** At most this many notified-to-collected samples per box and day (a box serves far fewer). */
export const STATS_MAX_SAMPLES_PER_DAY = 10_000;
/** Events of boxes that are no longer configured are counted on the days of this zone. */
export const STATS_FALLBACK_TIME_ZONE = 'Europe/Berlin';

export const COUNTERS = ['notices', 'waited', 'collected', 'expired', 'cancelled', 'smsDelivered', 'smsUndeliverable', 'smsFailed'] as const;
export type Counter = (typeof COUNTERS)[number];

/** What a transition to `to` adds to its day: the ends of pickups that the statistics show. */
export function transitionCounters(to: PickupState): Counter[] {
  if (to === 'collected') return ['collected'];
  if (to === 'expired') return ['expired'];
  if (to === 'cancelled') return ['cancelled'];
  return [];
}

/** What an SMS event adds to its day: outcomes only (accepted, reminder and code sent are not counted). */
export function smsCounters(reason: SmsEventReason): Counter[] {
  if (reason === 'sms_delivered') return ['smsDelivered'];
  if (reason === 'sms_undeliverable') return ['smsUndeliverable'];
  if (reason === 'sms_failed') return ['smsFailed'];
  return [];
}

/**
 * The notified-to-collected sample of a collection: whole seconds from the pickup's last `notified` (its
 * `notifiedAt`) to `at`; undefined without a notification or for a time before it.
 */
export function secondsToPickup(notifiedAt: string | undefined, at: string): number | undefined {
  if (notifiedAt === undefined || notifiedAt === '') return undefined;
  const seconds = Math.round((Date.parse(at) - Date.parse(notifiedAt)) / 1000);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
