import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/sms/backoff.js';
import { parseQuietHours, quietUntil } from '../../src/sms/quiet-hours.js';
import { smsForeignId, smsJobId } from '../../src/sms/queue.js';

const BERLIN = 'Europe/Berlin';
const quiet = { start: '20:00', end: '08:00' };

describe('quiet hours', () => {
  it('holds evening messages until 08:00 the next morning', () => {
    expect(quietUntil(Date.parse('2026-03-02T19:30:00Z'), BERLIN, quiet)).toBe(Date.parse('2026-03-03T07:00:00Z'));
  });

  it('holds early-morning messages until 08:00 the same day', () => {
    expect(quietUntil(Date.parse('2026-03-03T05:00:00Z'), BERLIN, quiet)).toBe(Date.parse('2026-03-03T07:00:00Z'));
  });

  it('lets daytime messages through, up to the minute before the window', () => {
    expect(quietUntil(Date.parse('2026-03-02T07:00:00Z'), BERLIN, quiet)).toBeUndefined();
    expect(quietUntil(Date.parse('2026-03-02T18:59:00Z'), BERLIN, quiet)).toBeUndefined();
  });

  it('follows daylight saving time', () => {
    // Night of 28/29 March 2026: clocks go forward; 08:00 CEST is 06:00 UTC.
    expect(quietUntil(Date.parse('2026-03-28T20:00:00Z'), BERLIN, quiet)).toBe(Date.parse('2026-03-29T06:00:00Z'));
  });

  it('supports windows that do not wrap midnight and can be switched off', () => {
    const lunch = { start: '12:00', end: '13:00' };
    expect(quietUntil(Date.parse('2026-03-02T11:30:00Z'), BERLIN, lunch)).toBe(Date.parse('2026-03-02T12:00:00Z'));
    expect(parseQuietHours('off')).toBeUndefined();
    expect(parseQuietHours('21:00-07:30')).toEqual({ start: '21:00', end: '07:30' });
    expect(() => parseQuietHours('8-20')).toThrow(/20:00/);
  });
});

describe('retry backoff', () => {
  it('grows exponentially with jitter between half and all of the step, capped', () => {
    const policy = { baseMs: 1_000, maxMs: 10_000 };
    expect(backoffDelay(1, policy, () => 0)).toBe(500);
    expect(backoffDelay(1, policy, () => 1)).toBe(1_000);
    expect(backoffDelay(3, policy, () => 1)).toBe(4_000);
    expect(backoffDelay(10, policy, () => 1)).toBe(10_000);
    expect(backoffDelay(10, policy, () => 0)).toBe(5_000);
  });
});

describe('job and reference ids', () => {
  it('avoid the colon BullMQ refuses and keep seven.io reference rules', () => {
    expect(smsJobId('p-1', 'ready')).toBe('p-1.ready');
    expect(smsJobId('case:42', 'reminder')).toBe('case%3A42.reminder');
    expect(smsForeignId('case:42', 'ready')).toBe('case-42.ready');
    expect(smsForeignId('x'.repeat(80), 'cancelled')).toHaveLength(64);
  });

  it('name a new-code message by its generation, so that each new code is a message of its own', () => {
    expect(smsJobId('p-1', 'code', 2)).toBe('p-1.code.2');
    expect(smsJobId('case:42', 'code', 1)).not.toBe(smsJobId('case:42', 'code', 2));
    expect(smsForeignId('case:42', 'code', 3)).toBe('case-42.code.3');
    expect(smsForeignId('x'.repeat(80), 'code', 5)).toMatch(/^x{57}\.code\.5$/);
  });
});
