import { describe, expect, it } from 'vitest';
import { callDelta, commandCalls, median, parseInfo, percentile, procCpuMicros, ratio, redisCpuMicros, totalCalls } from '../../bench/efficiency-stats.js';

describe('efficiency benchmark helpers', () => {
  it('medians, percentiles and ratios', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(median([Number.NaN, 5])).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNaN();
  });

  it('reads utime and stime from /proc/<pid>/stat, even with spaces and parentheses in the name', () => {
    const stat = '4242 (node (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 1000 0 0';
    expect(procCpuMicros(stat)).toBe(3_000_000);
  });

  it('parses INFO cpu and commandstats and takes deltas', () => {
    const before = parseInfo('# CPU\r\nused_cpu_sys:1.5\r\nused_cpu_user:0.5\r\n# Commandstats\r\ncmdstat_set:calls=3,usec=10,usec_per_call=3.33\r\ncmdstat_get:calls=1,usec=1\r\n');
    const after = parseInfo('# CPU\r\nused_cpu_sys:2.0\r\nused_cpu_user:1.0\r\n# Commandstats\r\ncmdstat_set:calls=7,usec=20\r\ncmdstat_get:calls=1,usec=1\r\ncmdstat_xadd:calls=2,usec=4\r\n');
    expect(redisCpuMicros(after) - redisCpuMicros(before)).toBeCloseTo(1_000_000);
    const delta = callDelta(commandCalls(before), commandCalls(after));
    expect([...delta]).toEqual([
      ['set', 4],
      ['xadd', 2],
    ]);
    expect(totalCalls(delta)).toBe(6);
  });
});
