import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { BoxCalendar, DEFAULT_OPENING_HOURS } from '../../src/core/calendar.js';

const calendar = new BoxCalendar({ timeZone: 'Europe/Berlin', state: 'ST', openingHours: DEFAULT_OPENING_HOURS, closedOnHolidays: true });
const berlin = (iso: string) => DateTime.fromISO(iso, { zone: 'Europe/Berlin' }).toMillis();
const local = (ms: number) => DateTime.fromMillis(ms, { zone: 'Europe/Berlin' }).toFormat("yyyy-MM-dd'T'HH:mm");

describe('calendar of a box in Sachsen-Anhalt', () => {
  it('knows the public holidays of Sachsen-Anhalt in 2026', () => {
    const holidays = calendar.publicHolidays(2026);
    for (const day of ['2026-01-01', '2026-01-06', '2026-04-03', '2026-04-06', '2026-05-01', '2026-05-14', '2026-05-25', '2026-10-03', '2026-10-31', '2026-12-25', '2026-12-26']) {
      expect(holidays.has(day), day).toBe(true);
    }
    // Holidays of other states are not holidays here.
    expect(holidays.has('2026-06-04')).toBe(false); // Fronleichnam (not in ST)
    expect(holidays.has('2026-11-18')).toBe(false); // Buß- und Bettag (Sachsen only)
    expect(holidays.has('2026-03-08')).toBe(false); // Frauentag (Berlin only)
  });

  it('is open Monday to Friday 08:00-19:30 local time', () => {
    expect(calendar.isOpen(berlin('2026-03-02T07:59'))).toBe(false);
    expect(calendar.isOpen(berlin('2026-03-02T08:00'))).toBe(true);
    expect(calendar.isOpen(berlin('2026-03-02T19:29'))).toBe(true);
    expect(calendar.isOpen(berlin('2026-03-02T19:30'))).toBe(false);
    expect(calendar.isOpen(berlin('2026-03-07T10:00'))).toBe(false); // Saturday
  });

  it('is closed on a public holiday that falls on a weekday', () => {
    expect(calendar.isOpen(berlin('2026-01-06T10:00'))).toBe(false); // Heilige Drei Könige
  });

  it('sets the deadline to closing time of the 7th working day after notification', () => {
    // Monday 2 March -> 7 working days: 3,4,5,6,9,10,11 March.
    expect(local(calendar.deadline(berlin('2026-03-02T10:00'), 7))).toBe('2026-03-11T19:30');
  });

  it('does not count Good Friday and Easter Monday', () => {
    // Notified Wednesday 1 April 2026: 2 Apr, (3 Good Friday), (6 Easter Monday), 7,8,9,10,13,14.
    expect(local(calendar.deadline(berlin('2026-04-01T12:00'), 7))).toBe('2026-04-14T19:30');
  });

  it('keeps local closing time across the change to summer time', () => {
    // Summer time starts Sunday 29 March 2026; notified Friday 20 March.
    const deadline = calendar.deadline(berlin('2026-03-20T09:00'), 7);
    expect(local(deadline)).toBe('2026-03-31T19:30');
    expect(new Date(deadline).toISOString()).toBe('2026-03-31T17:30:00.000Z');
    const winter = calendar.deadline(berlin('2026-03-02T09:00'), 1);
    expect(new Date(winter).toISOString()).toBe('2026-03-03T18:30:00.000Z');
  });

  it('keeps local closing time across the change to winter time', () => {
    // Winter time starts Sunday 25 October 2026; 31 October is Reformationstag (Saturday).
    const deadline = calendar.deadline(berlin('2026-10-22T09:00'), 3);
    expect(local(deadline)).toBe('2026-10-27T19:30');
    expect(new Date(deadline).toISOString()).toBe('2026-10-27T18:30:00.000Z');
  });

  it('finds the next opening after a weekend and a holiday', () => {
    expect(local(calendar.nextOpening(berlin('2026-04-03T10:00')) ?? 0)).toBe('2026-04-07T08:00');
    expect(local(calendar.nextOpening(berlin('2026-03-02T20:00')) ?? 0)).toBe('2026-03-03T08:00');
  });

  it('counts working days back from a deadline for reminders', () => {
    expect(local(calendar.workingDaysBefore(berlin('2026-04-14T19:30'), 2))).toBe('2026-04-10T19:30');
  });

  it('rejects malformed opening hours', () => {
    expect(() => new BoxCalendar({ timeZone: 'Europe/Berlin', state: 'ST', openingHours: { mon: ['19:00-08:00'] }, closedOnHolidays: true })).toThrow(/end after/);
    expect(() => new BoxCalendar({ timeZone: 'Europe/Berlin', state: 'ST', openingHours: { mon: ['8-19'] }, closedOnHolidays: true })).toThrow(/08:00-19:30/);
  });
});
