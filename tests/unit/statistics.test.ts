import { describe, expect, it } from 'vitest';
import { DokuboxError } from '../../src/core/errors.js';
import { csvField, csvLine, statisticsCsv } from '../../src/stats/csv.js';
import { isoWeekOf, medianOf, parseStatisticsQuery } from '../../src/stats/statistics.js';
import { secondsToPickup, smsCounters, transitionCounters } from '../../src/core/statistics.js';

describe('statistics CSV (RFC 4180)', () => {
  it('quotes fields with a comma, a double quote or a line break and doubles the quotes; null is empty', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField(0.1667)).toBe('0.1667');
    expect(csvField(null)).toBe('');
    expect(csvLine(['x', 1, null, 'y,"z"'])).toBe('x,1,,"y,""z"""\r\n');
  });

  it('writes the header row even without rows', () => {
    expect(statisticsCsv([])).toBe('period,notices,collected,expired,cancelled,waited,waitedShare,medianMinutesToPickup,smsDelivered,smsUndeliverable,smsFailed,smsDeliveryRate\r\n');
  });
});

describe('statistics periods and medians', () => {
  it('names ISO weeks by their week-numbering year', () => {
    expect(isoWeekOf('2026-03-02')).toBe('2026-W10');
    expect(isoWeekOf('2026-03-01')).toBe('2026-W09');
    expect(isoWeekOf('2027-01-01')).toBe('2026-W53');
    expect(isoWeekOf('2024-12-30')).toBe('2025-W01');
  });

  it('takes the middle sample, or the mean of the two middle ones', () => {
    expect(medianOf([])).toBeUndefined();
    expect(medianOf([5])).toBe(5);
    expect(medianOf([30, 10, 20])).toBe(20);
    expect(medianOf([40, 10, 20, 30])).toBe(25);
  });

  it('counts ends of pickups and SMS outcomes, nothing else (notices are counted by the ingest itself)', () => {
    expect(transitionCounters('waiting')).toEqual([]);
    expect(transitionCounters('notified')).toEqual([]);
    expect(transitionCounters('fault')).toEqual([]);
    expect(transitionCounters('returned')).toEqual([]);
    expect(transitionCounters('collected')).toEqual(['collected']);
    expect(transitionCounters('expired')).toEqual(['expired']);
    expect(transitionCounters('cancelled')).toEqual(['cancelled']);
    expect(smsCounters('sms_failed')).toEqual(['smsFailed']);
    expect(smsCounters('sms_delivered')).toEqual(['smsDelivered']);
    expect(smsCounters('sms_undeliverable')).toEqual(['smsUndeliverable']);
    expect(smsCounters('reminder_sent')).toEqual([]);
    expect(smsCounters('code_sent')).toEqual([]);
    expect(smsCounters('sms_accepted_by_gateway')).toEqual([]);
  });

  it('takes whole seconds from the last notification to the collection, none without a notification or before it', () => {
    expect(secondsToPickup('2026-03-02T10:00:00.000Z', '2026-03-02T10:12:00.400Z')).toBe(720);
    expect(secondsToPickup(undefined, '2026-03-02T10:12:00Z')).toBeUndefined();
    expect(secondsToPickup('', '2026-03-02T10:12:00Z')).toBeUndefined();
    expect(secondsToPickup('2026-03-02T10:13:00Z', '2026-03-02T10:12:00Z')).toBeUndefined();
    expect(secondsToPickup('not a time', '2026-03-02T10:12:00Z')).toBeUndefined();
  });
});

describe('statistics query parameters', () => {
  const fieldOf = (params: Record<string, string>): string | undefined => {
    try {
      parseStatisticsQuery(params);
    } catch (error) {
      if (error instanceof DokuboxError && error.code === 'VALIDATION_FAILED') return error.field;
      throw error;
    }
    return undefined;
  };

  it('takes real dates, from not after to, at most 400 days, day by default', () => {
    expect(parseStatisticsQuery({ from: '2024-02-29', to: '2024-02-29' })).toEqual({ from: '2024-02-29', to: '2024-02-29', granularity: 'day' });
    expect(fieldOf({ from: '2025-02-29', to: '2025-03-01' })).toBe('from');
    expect(fieldOf({ from: '2025-1-01', to: '2025-03-01' })).toBe('from');
    expect(fieldOf({ from: '2025-01-01' })).toBe('to');
    expect(fieldOf({ from: '2025-01-02', to: '2025-01-01' })).toBe('from');
    expect(fieldOf({ from: '2025-01-01', to: '2026-02-04' })).toBeUndefined();
    expect(fieldOf({ from: '2025-01-01', to: '2026-02-05' })).toBe('to');
    expect(fieldOf({ from: '2025-01-01', to: '2025-01-01', granularity: 'year' })).toBe('granularity');
  });
});
