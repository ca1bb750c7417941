/**
 * The YAML scenario format (docs/simulator.md, "Scenarios"): one zod schema,
 * and the times and durations its steps are written in. A scenario that does
 * not fit is refused with every problem, each naming the field and the line.
 */
import { readFileSync } from 'node:fs';
import { load as parseYaml } from 'js-yaml';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { FAULT_KINDS, type FaultKind } from '../faults.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)\s*)+$/;

/** `90s`, `10m`, `1h30m`, `2d`, `250ms` in milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g)) total += Number(amount) * (UNITS[unit as string] as number);
  return Math.round(total);
}

const duration = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
    if (ms === undefined || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `'${String(value)}' is not a duration: write e.g. 90s, 10m, 1h30m, 2d (a bare number is seconds)` });
      return z.NEVER;
    }
    return ms;
  });

/** Repeats a step: `every` (simulated) `times` times in all; `workingDays`: only on the box's working days (weekends and public holidays of its state skipped). */
const repeat = z.strictObject({ every: duration, times: z.number().int().min(1).max(1000), workingDays: z.boolean().default(false) }).optional();

const AT = /^(?:\+.+|(?:day\s+\d+\s+)?\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}T.+)$/;
/** When a step happens: `08:00` (the first day), `day 3 10:00`, `+2h` (after the start), or a local date-time `2026-03-04T10:00`. */
const at = z.string().refine((text) => AT.test(text.trim()) && (!text.trim().startsWith('+') || parseDuration(text.trim().slice(1)) !== undefined), {
  message: "must look like 08:00, 'day 3 10:00', +2h (after the start) or 2026-03-04T10:00",
});

const faultKinds = Object.keys(FAULT_KINDS) as [FaultKind, ...FaultKind[]];
/** `pickup: n`: the compartment of the n-th notice's pickup (1-based) when the step runs; `pickup: next`: of the next applicant to come. */
const faultTarget = z.strictObject({ box: z.string().optional(), compartment: z.string().optional(), pickup: z.union([z.number().int().min(1), z.literal('next')]).optional(), gateway: z.string().optional(), board: z.number().int().min(0).optional(), ms: z.number().int().min(1).optional() });

const noticesStep = z.strictObject({
  at,
  repeat,
  notices: z.strictObject({
    count: z.number().int().min(1).max(5000),
    /** Spread evenly over this period (default: all at once). */
    over: duration.default(0),
    format: z.enum(['soap', 'xoev', 'xoev-soap', 'mixed']).default('soap'),
    box: z.string().optional(),
  }),
});
const loadStep = z.strictObject({ at, repeat, load: z.union([z.literal(true), z.strictObject({ box: z.string().optional() })]) });
const faultStep = z.strictObject({
  at,
  repeat,
  fault: z.strictObject({
    kind: z.enum(faultKinds, { message: `must be one of ${faultKinds.join(', ')}` }),
    target: faultTarget.default({}),
    on: z.boolean().default(true),
    /** Switched off again after this long (simulated time). */
    for: duration.optional(),
  }),
});
const cancelStep = z.strictObject({ at, repeat, cancel: z.strictObject({ count: z.number().int().min(1) }) });
const staffStep = z.strictObject({ at, repeat, staff: z.literal('round') });
const STEP_KINDS = { notices: noticesStep, load: loadStep, fault: faultStep, cancel: cancelStep, staff: staffStep } as const;
type StepKind = keyof typeof STEP_KINDS;
type StepOutput = z.output<(typeof STEP_KINDS)[StepKind]>;
/** A step: `at` and one action; checked against that action's schema so its problems name the field. */
const step = z.unknown().transform((value, ctx): StepOutput => {
  const keys = typeof value === 'object' && value !== null ? Object.keys(value) : [];
  const kind = keys.find((k): k is StepKind => k in STEP_KINDS);
  if (kind === undefined) {
    ctx.addIssue({ code: 'custom', message: `a step has \`at\` and one of: ${Object.keys(STEP_KINDS).join(', ')}` });
    return z.NEVER;
  }
  const parsed = STEP_KINDS[kind].safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }
  return parsed.data;
});

export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  /** Directory of box files (as BOXES_DIR), relative to the project root. */
  boxes: z.string().default('mappings/boxes'),
  /** The box the steps mean unless they name one; default the first. */
  box: z.string().optional(),
  /** Local date-time in the box's time zone, e.g. 2026-03-02T07:30; default now. */
  start: z.string().optional(),
  /** Simulated seconds per real second. */
  speed: z.number().positive().max(1_000_000).default(1),
  /** `simulated`: the middleware runs on the shared world clock (required); `wall`: it runs on wall time and only the script follows `speed`; `auto`: simulated when available. */
  time: z.enum(['auto', 'simulated', 'wall']).default('auto'),
  seed: z.number().int().default(1),
  instances: z
    .strictObject({
      count: z.number().int().min(1).max(8).default(1),
      /** kill -9 one instance (round robin) every so often and start it again. */
      kill: z
        .strictObject({
          every: duration,
          clock: z.enum(['real', 'simulated']).default('real'),
          /** How long it stays dead (real time). */
          downFor: duration.default(0),
          /** false: wait until no door is being operated (an instance killed between door open and door close loses that pickup's completion). */
          duringDoorOperations: z.boolean().default(true),
          /** true: a due kill waits for the next loading and hits the instance that drives the box while that door is open (half the time the door closes before the restart, half after). */
          atOpenDoor: z.boolean().default(false),
          /**
           * The run does not end before this many kills (the schedule goes on while pickups are open and after), so
           * that a slow machine, where a restart takes several simulated minutes, still sees them; 0: no minimum.
           */
          atLeast: z.number().int().min(0).max(100).default(0),
        })
        .refine((kill) => !(kill.atOpenDoor && kill.atLeast > 0), {
          message: 'atLeast needs kills on the schedule; with atOpenDoor they come only with loadings, which end with the script',
          path: ['atLeast'],
        })
        .optional(),
    })
    .default({ count: 1 }),
  /** Extra environment for the middleware instances. */
  env: z.record(z.string(), z.string()).default({}),
  applicants: z
    .strictObject({
      /** Share of applicants who never come (their pickups expire). */
      noShow: z.number().min(0).max(1).default(0),
      /** Delay from the SMS to the visit, uniform between min and max (simulated), moved into the opening hours when time is simulated. */
      delay: z.strictObject({ min: duration.default(0), max: duration.default(0) }).default({ min: 0, max: 0 }),
      /** After a door did not open or the box was offline: come back this much later (simulated), at most `retries` times. */
      retryAfter: duration.default(600_000),
      retries: z.number().int().min(0).max(50).default(5),
    })
    .default({ noShow: 0, delay: { min: 0, max: 0 }, retryAfter: 600_000, retries: 5 }),
  staff: z
    .strictObject({
      /** Staff rounds (simulated): load what got a compartment since, take back expired and faulty pickups, repair doors. */
      every: duration.optional(),
    })
    .default({}),
  steps: z.array(step).min(1),
  end: z
    .strictObject({
      /** Real time the whole run may take before it gives up (the unfinished pickups are named). */
      limit: duration.default(300_000),
      /** What happens to pickups nobody collects: `expire` jumps the clock past their deadline (simulated time); `cancel` has the case system cancel them. */
      leftovers: z.enum(['expire', 'cancel']).default('expire'),
    })
    .default({ limit: 300_000, leftovers: 'expire' }),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioStep = Scenario['steps'][number];

export class ScenarioError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(problems.length === 0 ? message : `${message}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The line (1-based) of a field in the YAML text, found by its path (block and flow style); best effort. */
export function lineOf(source: string, path: readonly PropertyKey[]): number | undefined {
  const lines = source.split(/\r?\n/);
  const indentOf = (line: string): number => line.search(/\S/);
  const meaningful = (line: string): boolean => !/^\s*(#.*)?$/.test(line);
  /** The first line after `start` indented at most `column`. */
  const endOf = (start: number, column: number, limit: number): number => {
    for (let i = start + 1; i < limit; i++) if (meaningful(lines[i] as string) && indentOf(lines[i] as string) <= column) return i;
    return limit;
  };
  let from = 0;
  let to = lines.length;
  let found: number | undefined;
  for (const segment of path) {
    let hit: number | undefined;
    let column = 0;
    if (typeof segment === 'number') {
      let n = -1;
      let dash: number | undefined;
      for (let i = from; i < to && hit === undefined; i++) {
        const match = /^(\s*)- /.exec(lines[i] as string);
        if (match === null) continue;
        dash ??= (match[1] as string).length;
        if ((match[1] as string).length !== dash) continue;
        n += 1;
        if (n === segment) hit = i;
      }
      column = dash ?? 0;
    } else {
      const pattern = new RegExp(`(^|[\\s{,-])${String(segment).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:`);
      for (let i = from; i < to && hit === undefined; i++) {
        const match = pattern.exec(lines[i] as string);
        if (match !== null) {
          hit = i;
          column = match.index + (match[1] as string).length;
        }
      }
    }
    if (hit === undefined) return found;
    from = hit;
    to = endOf(hit, column, to);
    found = hit + 1;
  }
  return found;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(the whole file)';
}

/** Parses and checks a scenario; throws ScenarioError naming every problem with its field and line. */
export function parseScenario(source: string, file = 'scenario'): Scenario {
  let data: unknown;
  try {
    data = parseYaml(source);
  } catch (error) {
    const mark = (error as { mark?: { line: number } }).mark;
    throw new ScenarioError(`${file}${mark === undefined ? '' : `:${mark.line + 1}`} is not valid YAML: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const line = lineOf(source, issue.path);
      return `${pathText(issue.path)}${line === undefined ? '' : ` (line ${line})`}: ${issue.message}`;
    });
    throw new ScenarioError(`${file} is not a valid scenario; fix these fields`, problems);
  }
  return parsed.data;
}

export function loadScenario(file: string): Scenario {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(`Cannot read the scenario ${file}: ${(error as Error).message}. Give the path of a YAML file, e.g. scenarios/box-full.yaml.`);
  }
  return parseScenario(source, file);
}

/** The start instant: the scenario's local date-time in the box's zone, or `now`. */
export function startInstant(scenario: Scenario, zone: string, now: number): number {
  if (scenario.start === undefined) return now;
  const start = DateTime.fromISO(scenario.start, { zone });
  if (!start.isValid) throw new ScenarioError(`start '${scenario.start}' is not a local date-time: write e.g. 2026-03-02T07:30 (in the box's zone ${zone})`);
  return start.toMillis();
}

/** The instant of a step's `at`, given the start instant and the box's zone. */
export function resolveAt(text: string, start: number, zone: string): number {
  const trimmed = text.trim();
  if (trimmed.startsWith('+')) return start + (parseDuration(trimmed.slice(1)) as number);
  const clock = /^(?:day\s+(\d+)\s+)?(\d{1,2}):(\d{2})$/.exec(trimmed);
  if (clock !== null) {
    const day = Number(clock[1] ?? '1');
    const local = DateTime.fromMillis(start, { zone })
      .startOf('day')
      .plus({ days: day - 1 })
      .set({ hour: Number(clock[2]), minute: Number(clock[3]) });
    return local.toMillis();
  }
  const absolute = DateTime.fromISO(trimmed, { zone });
  if (!absolute.isValid) throw new ScenarioError(`at '${text}' is not a time: write 08:00, 'day 3 10:00', +2h or 2026-03-04T10:00`);
  return absolute.toMillis();
}
