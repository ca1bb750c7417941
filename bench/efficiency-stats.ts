/**
 * Pure helpers of the efficiency benchmark (bench/efficiency.ts): medians,
 * ratios, process CPU from /proc/<pid>/stat and Redis INFO parsing. Kept
 * free of I/O so tests/unit/bench-stats.test.ts can check them cheaply.
 */

/** Median of the finite values (mean of the middle two for an even count); NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile (p in 0..100) of the values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** a / b, NaN when b is not a positive number. */
export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) ? a / b : Number.NaN;
}

/**
 * CPU time (user + system) in microseconds from the text of /proc/<pid>/stat.
 * Fields 14 and 15 (utime, stime) are in clock ticks; the command name (field 2)
 * may hold spaces and parentheses, so fields are counted after its last ')'.
 */
export function procCpuMicros(stat: string, ticksPerSecond = 100): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unreadable /proc stat line');
  return ((utime + stime) * 1_000_000) / ticksPerSecond;
}

/** `name:value` lines of a Redis INFO reply as a map (sections and blank lines skipped). */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return out;
}

/** Redis CPU (user + sys, main and children) in microseconds from INFO cpu. */
export function redisCpuMicros(info: Map<string, string>): number {
  return ['used_cpu_sys', 'used_cpu_user'].reduce((sum, key) => sum + Number(info.get(key) ?? 0) * 1_000_000, 0);
}

/** Calls per command from INFO commandstats (`cmdstat_set:calls=3,usec=...`). */
export function commandCalls(info: Map<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of info) {
    if (!key.startsWith('cmdstat_')) continue;
    const calls = /(?:^|,)calls=(\d+)/.exec(value);
    if (calls !== null) out.set(key.slice('cmdstat_'.length), Number(calls[1]));
  }
  return out;
}

/** Per-command call counts after minus before (commands not called in between are left out). */
export function callDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0);
    if (delta > 0) out.set(name, delta);
  }
  return out;
}

/** Sum of a delta's calls. */
export function totalCalls(delta: Map<string, number>): number {
  let sum = 0;
  for (const calls of delta.values()) sum += calls;
  return sum;
}

/** A number for a table cell: integers with thousands separators, small values with `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
