/**
 * Dates of birth of refugees are often partly unknown: a date of birth is
 * stored as `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, and verification accepts it
 * only in the same precision (a partial date as the document prints it).
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
 * A date of birth as the applicant enters it at the box, read in the forms
 * the document prints it: `YYYY-MM-DD`, `YYYY-MM`, `YYYY`, or the German
 * `DD.MM.YYYY` where an unknown day or month is written `XX` or `00`
 * (`XX.XX.1990`, `00.00.1990`, `XX.05.1990`, `00.05.1990`). Unknown parts are
 * left out of the result, so `XX.05.1990` reads as `{ year: 1990, month: 5 }`.
 * A known day with an unknown month is no date. Returns undefined for
 * anything else or an impossible date.
 */
export function parseEnteredDate(value: string): PartialDate | undefined {
  const german = /^(\d{2}|XX)\.(\d{2}|XX)\.(\d{4})$/i.exec(value.trim());
  if (german === null) return parsePartialDate(value.trim());
  const part = (text: string | undefined): number => (text === undefined || /^x+$/i.test(text) ? 0 : Number(text));
  const day = part(german[1]);
  const month = part(german[2]);
  const year = german[3] ?? '';
  if (month === 0 && day !== 0) return undefined;
  const iso = month === 0 ? year : day === 0 ? `${year}-${String(month).padStart(2, '0')}` : `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return parsePartialDate(iso);
}

/**
 * Does what the applicant entered match the stored (possibly partial) date of
 * birth? Both must be known to the same precision and equal: a record that
 * holds only the year matches only the year as the document prints it
 * (`1990`, `XX.XX.1990`, `00.00.1990`), not one of the 365 full dates of that
 * year; a year-and-month record only `1990-05`, `XX.05.1990`, `00.05.1990`.
 * Every part is compared, so the time does not depend on where they differ.
 */
export function partialDateMatches(stored: PartialDate, entered: PartialDate): boolean {
  const year = stored.year === entered.year;
  const month = (stored.month ?? 0) === (entered.month ?? 0);
  const day = (stored.day ?? 0) === (entered.day ?? 0);
  return year && month && day;
}
