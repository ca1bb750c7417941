/**
 * Quiet hours: no SMS is sent between, by default, 20:00 and 08:00 in the
 * box's time zone. A message that comes due in the window waits until it
 * ends. Pure; the clock is passed in.
 */
import { DateTime } from 'luxon';

export interface QuietHours {
  /** `HH:MM` local time when sending stops, e.g. `20:00`. */
  start: string;
  /** `HH:MM` local time when sending resumes, e.g. `08:00`. */
  end: string;
}

export const DEFAULT_QUIET_HOURS: QuietHours = { start: '20:00', end: '08:00' };

function minutesOf(text: string): number {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  if (!match || Number(match[1]) > 23 || Number(match[2]) > 59) throw new Error(`quiet hours time '${text}' must look like 20:00`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Parses `20:00-08:00`; an empty string or `off` means no quiet hours. */
export function parseQuietHours(text: string): QuietHours | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'off') return undefined;
  const [start, end, ...rest] = trimmed.split('-');
  if (start === undefined || end === undefined || rest.length > 0) throw new Error(`quiet hours '${text}' must look like 20:00-08:00 or off`);
  const quiet = { start: start.trim(), end: end.trim() };
  validateQuietHours(quiet);
  return quiet;
}

export function validateQuietHours(quiet: QuietHours): void {
  if (minutesOf(quiet.start) === minutesOf(quiet.end)) throw new Error('quiet hours must not start and end at the same time');
}

/**
 * When `instant` falls into the quiet hours, the instant they end; otherwise
 * undefined. Windows may wrap midnight (20:00-08:00) or not (12:00-13:00).
 */
export function quietUntil(instant: number, timeZone: string, quiet: QuietHours | undefined): number | undefined {
  if (!quiet) return undefined;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const local = DateTime.fromMillis(instant, { zone: timeZone });
  const minute = local.hour * 60 + local.minute;
  const wraps = start > end;
  const inside = wraps ? minute >= start || minute < end : minute >= start && minute < end;
  if (!inside) return undefined;
  let endDay = local.startOf('day');
  if (wraps && minute >= start) endDay = endDay.plus({ days: 1 });
  // Set the wall-clock time on the right day; luxon resolves DST gaps forward.
  return endDay.set({ hour: Math.floor(end / 60), minute: end % 60 }).toMillis();
}
