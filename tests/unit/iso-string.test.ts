/** isoString remembers the text of the current second; it must write exactly what toISOString writes. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { isoAt, isoString } from '../../src/core/clock.js';

const reference = (ms: number): string => new Date(ms).toISOString();

describe('isoString', () => {
  it("writes toISOString's text for every millisecond around second, minute, day, year and leap-day boundaries", () => {
    const anchors = [0, 999, 1000, Date.UTC(2024, 1, 29, 23, 59, 59, 990), Date.UTC(2026, 11, 31, 23, 59, 59, 950), Date.UTC(2100, 1, 28, 23, 59, 59, 900), 253_402_300_799_000];
    for (const anchor of anchors) for (let ms = anchor; ms < anchor + 2_100; ms++) expect(isoString(ms)).toBe(reference(ms));
  });

  it('writes the same for random times, in and out of order (the remembered second changes)', () => {
    let seed = 3;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor(random() * 4_102_444_800_000);
      expect(isoString(ms)).toBe(reference(ms));
      expect(isoString(ms + 1)).toBe(reference(ms + 1));
    }
  });

  it('leaves fractions, times before 1970 and after 9999 to toISOString (and throws as it does for NaN)', () => {
    for (const ms of [1.5, 1_764_600_000_000.7, -1, -1_000, -62_198_755_200_000, 253_402_300_800_000, 8.64e15, -0]) expect(isoString(ms)).toBe(reference(ms));
    expect(() => isoString(Number.NaN)).toThrow(RangeError);
  });

  it("gives isoAt the clock's time and the log lines pino's isoTime text", () => {
    expect(isoAt({ now: () => 1_764_600_123_456 })).toBe('2025-12-01T14:42:03.456Z');
    const line = `,"time":"${isoString(Date.now())}"`;
    expect(line).toMatch(/^,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$/);
    expect(pino.stdTimeFunctions.isoTime().length).toBe(line.length);
  });
});
