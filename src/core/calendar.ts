/**
 * Opening hours, public holidays and deadlines of a box, in the box's time
 * zone (DST-correct via luxon). Public holidays come from date-holidays per
 * federal state; only days of type "public" close the box and do not count
 * as working days.
 */
import Holidays from 'date-holidays';
import { DateTime } from 'luxon';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** `HH:MM-HH:MM` windows per weekday; a missing day is closed. */
export type OpeningHours = Partial<Record<Weekday, readonly string[]>>;

export const DEFAULT_OPENING_HOURS: OpeningHours = {
  mon: ['08:00-19:30'],
  tue: ['08:00-19:30'],
  wed: ['08:00-19:30'],
  thu: ['08:00-19:30'],
  fri: ['08:00-19:30'],
};

export interface CalendarOptions {
  timeZone: string;
  /** ISO 3166-2 subdivision without the country, e.g. `ST` for Sachsen-Anhalt. */
  state: string;
  openingHours: OpeningHours;
  closedOnHolidays: boolean;
}

interface Window {
  start: number; // minutes after midnight
  end: number;
}

function parseWindow(text: string): Window {
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text);
  if (!match) throw new Error(`opening hours window '${text}' must look like 08:00-19:30`);
  const [, sh, sm, eh, em] = match.map(Number) as [number, number, number, number, number];
  const start = sh * 60 + sm;
  const end = eh * 60 + em;
  if (sh > 23 || eh > 24 || sm > 59 || em > 59 || end <= start) throw new Error(`opening hours window '${text}' must end after it starts`);
  return { start, end };
}

export function validateOpeningHours(hours: OpeningHours): void {
  for (const day of Object.keys(hours)) {
    if (!WEEKDAYS.includes(day as Weekday)) throw new Error(`opening hours name an unknown weekday '${day}' (use mon..sun)`);
    for (const window of hours[day as Weekday] ?? []) parseWindow(window);
  }
}

export class BoxCalendar {
  private readonly holidays: Holidays;
  private readonly holidayCache = new Map<number, Set<string>>();
  private readonly windows: Map<Weekday, Window[]>;

  constructor(readonly options: CalendarOptions) {
    validateOpeningHours(options.openingHours);
    this.holidays = new Holidays('DE', options.state);
    this.windows = new Map(WEEKDAYS.map((day) => [day, (options.openingHours[day] ?? []).map(parseWindow)]));
  }

  private local(instant: number): DateTime {
    return DateTime.fromMillis(instant, { zone: this.options.timeZone });
  }

  /** Public holidays (type "public") of a year as `YYYY-MM-DD`. */
  publicHolidays(year: number): Set<string> {
    let set = this.holidayCache.get(year);
    if (!set) {
      set = new Set(
        (this.holidays.getHolidays(year) || [])
          .filter((holiday) => holiday.type === 'public')
          .map((holiday) => holiday.date.slice(0, 10)),
      );
      this.holidayCache.set(year, set);
    }
    return set;
  }

  isPublicHoliday(date: DateTime): boolean {
    return this.publicHolidays(date.year).has(date.toISODate() ?? '');
  }

  private weekday(date: DateTime): Weekday {
    return WEEKDAYS[date.weekday - 1] as Weekday;
  }

  /** Monday to Friday and not a public holiday. */
  isWorkingDay(date: DateTime): boolean {
    return date.weekday <= 5 && !this.isPublicHoliday(date);
  }

  isOpen(instant: number): boolean {
    const local = this.local(instant);
    if (this.options.closedOnHolidays && this.isPublicHoliday(local)) return false;
    const minutes = local.hour * 60 + local.minute;
    return (this.windows.get(this.weekday(local)) ?? []).some((w) => minutes >= w.start && minutes < w.end);
  }

  /** Closing time (end of the last window) of a local day, or the day's end if it has no window. */
  private closingOf(date: DateTime): DateTime {
    const windows = this.windows.get(this.weekday(date)) ?? [];
    const last = windows.reduce((max, w) => Math.max(max, w.end), 0);
    const startOfDay = date.startOf('day');
    return last === 0 ? startOfDay.plus({ days: 1 }) : startOfDay.set({ hour: Math.floor(last / 60), minute: last % 60 });
  }

  /**
   * Deadline of a pickup: the closing time of the N-th working day after the
   * day of notification (the day of notification itself does not count).
   */
  deadline(notifiedAt: number, workingDays: number): number {
    let day = this.local(notifiedAt).startOf('day');
    let counted = 0;
    while (counted < workingDays) {
      day = day.plus({ days: 1 });
      if (this.isWorkingDay(day)) counted += 1;
    }
    return this.closingOf(day).toMillis();
  }

  /** The instant `workingDays` working days before a deadline, at the same local time of day. */
  workingDaysBefore(deadline: number, workingDays: number): number {
    let day = this.local(deadline);
    let counted = 0;
    while (counted < workingDays) {
      day = day.minus({ days: 1 });
      if (this.isWorkingDay(day)) counted += 1;
    }
    return day.toMillis();
  }

  /** The next instant at or after `instant` when the box is open, within 60 days. */
  nextOpening(instant: number): number | undefined {
    if (this.isOpen(instant)) return instant;
    let day = this.local(instant).startOf('day');
    for (let i = 0; i < 60; i += 1) {
      const closedDay = this.options.closedOnHolidays && this.isPublicHoliday(day);
      if (!closedDay) {
        for (const window of [...(this.windows.get(this.weekday(day)) ?? [])].sort((a, b) => a.start - b.start)) {
          const start = day.set({ hour: Math.floor(window.start / 60), minute: window.start % 60 }).toMillis();
          const end = day.set({ hour: Math.floor(window.end / 60), minute: window.end % 60 }).toMillis();
          if (end > instant) return Math.max(start, instant);
        }
      }
      day = day.plus({ days: 1 });
    }
    return undefined;
  }

  /** Local wall-clock representation for texts: ISO date and weekday index (1 = Monday). */
  localDate(instant: number): { isoDate: string; weekday: number; time: string } {
    const local = this.local(instant);
    return { isoDate: local.toISODate() ?? '', weekday: local.weekday, time: local.toFormat('HH:mm') };
  }
}
