/**
 * Dates of birth of refugees are often partly unknown: a date of birth is
 * `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, and verification compares what is known.
 */
export interface PartialDate {
  year: number;
  month?: number;
  day?: number;
}

const PARTIAL = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; returns undefined for anything impossible. */
export function parsePartialDate(value: string): PartialDate | undefined {
  const match = PARTIAL.exec(value);
  if (!match) return undefined;
  const year = Number(match[1]);
  if (year < 1900 || year > 2100) return undefined;
  if (match[2] === undefined) return { year };
  const month = Number(match[2]);
  if (month < 1 || month > 12) return undefined;
  if (match[3] === undefined) return { year, month };
  const day = Number(match[3]);
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

export function formatPartialDate(date: PartialDate): string {
  const parts = [String(date.year).padStart(4, '0')];
  if (date.month !== undefined) parts.push(String(date.month).padStart(2, '0'));
  if (date.month !== undefined && date.day !== undefined) parts.push(String(date.day).padStart(2, '0'));
  return parts.join('-');
}

/** Full calendar date `YYYY-MM-DD` that really exists. */
export function isFullDate(value: string): boolean {
  const parsed = parsePartialDate(value);
  return parsed?.day !== undefined;
}

/**
 * Does what the applicant entered match the stored (possibly partial) date of
 * birth? Every part that is known on record must be entered and equal; the
 * applicant may enter a full date where only the year is on record (the
 * touchscreen always asks for a full date).
 */
export function partialDateMatches(stored: PartialDate, entered: PartialDate): boolean {
  if (stored.year !== entered.year) return false;
  if (stored.month !== undefined && stored.month !== entered.month) return false;
  if (stored.day !== undefined && stored.day !== entered.day) return false;
  return true;
}
