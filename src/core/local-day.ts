/**
 * The local calendar day (YYYY-MM-DD) of a moment in a time zone: the day a
 * statistic counts an event on. Memoised per zone and UTC minute (every
 * zone's offset is whole minutes), bounded; pure.
 */
import { DateTime } from 'luxon';

const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const MEMO_LIMIT = 1000;
const memo = new Map<string, string>();

/** The local day of an ISO time in `zone`; throws for a time that is not ISO. */
export function localDayOf(zone: string, isoTime: string): string {
  // Only UTC times as the store writes them are memoised (their first 16 characters are the minute).
  const key = UTC_TIME.test(isoTime) ? `${zone}|${isoTime.slice(0, 16)}` : undefined;
  const known = key === undefined ? undefined : memo.get(key);
  if (known !== undefined) return known;
  const day = DateTime.fromISO(isoTime, { zone }).toISODate();
  if (day === null) throw new Error(`time '${isoTime}' is not an ISO time`);
  if (key !== undefined) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(key, day);
  }
  return day;
}
