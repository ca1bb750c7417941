import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../src/project-root.js';
import { lineOf, parseDuration, parseScenario, resolveAt, ScenarioError } from './format.js';

const problemsOf = (source: string): string[] => {
  try {
    parseScenario(source, 'test.yaml');
  } catch (error) {
    if (error instanceof ScenarioError) return error.problems.length > 0 ? error.problems : [error.message];
    throw error;
  }
  return [];
};

describe('the scenario format', () => {
  it('reads durations in ms, s, m, h, d and combinations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('soon')).toBeUndefined();
  });

  it('places steps at a time of the first day, of a later day, after the start or at a local date-time', () => {
    const start = Date.parse('2026-03-02T07:30:00+01:00');
    expect(new Date(resolveAt('08:00', start, 'Europe/Berlin')).toISOString()).toBe('2026-03-02T07:00:00.000Z');
    expect(new Date(resolveAt('day 3 10:00', start, 'Europe/Berlin')).toISOString()).toBe('2026-03-04T09:00:00.000Z');
    expect(new Date(resolveAt('+2h', start, 'Europe/Berlin')).toISOString()).toBe('2026-03-02T08:30:00.000Z');
    // Summer time in the box's zone.
    expect(new Date(resolveAt('2026-04-01T10:00', start, 'Europe/Berlin')).toISOString()).toBe('2026-04-01T08:00:00.000Z');
  });

  it('names the field and its line for every problem', () => {
    const source = ['name: broken', 'speed: 60', 'steps:', '  - at: "08:00"', '    notices: { count: 0 }', '  - at: "09:00"', '    fault:', '      kind: jammed-lockk', '  - at: "soon"', '    load: true', ''].join('\n');
    expect(problemsOf(source)).toEqual([
      expect.stringMatching(/^steps\[0\]\.notices\.count \(line 5\): .*>=1/),
      expect.stringMatching(/^steps\[1\]\.fault\.kind \(line 8\): must be one of jammed-lock, /),
      expect.stringMatching(/^steps\[2\]\.at \(line 9\): must look like 08:00/),
    ]);
  });

  it('refuses a step without an action and unknown fields', () => {
    expect(problemsOf('name: x\nsteps:\n  - at: "08:00"\n')).toEqual([expect.stringMatching(/^steps\[0\] \(line 3\): a step has `at` and one of: notices, load, fault, cancel, staff/)]);
    expect(problemsOf('name: x\nsped: 3\nsteps:\n  - { at: "08:00", load: true }\n')).toEqual([expect.stringMatching(/sped/)]);
  });

  it('refuses a minimum of kills for kills at open doors, which end with the loadings', () => {
    const source = 'name: x\ninstances:\n  count: 2\n  kill: { every: 1m, clock: simulated, atOpenDoor: true, atLeast: 2 }\nsteps:\n  - { at: "08:00", load: true }\n';
    expect(problemsOf(source)).toEqual([expect.stringMatching(/^instances\.kill\.atLeast \(line 4\): atLeast needs kills on the schedule/)]);
    expect(problemsOf(source.replace('atOpenDoor: true', 'atOpenDoor: false'))).toEqual([]);
  });

  it('names the line of invalid YAML', () => {
    expect(problemsOf('name: x\nsteps: [\n')[0]).toMatch(/test\.yaml:\d+ is not valid YAML/);
  });

  it('finds the line of a field in block and flow style', () => {
    const source = 'name: x\ninstances:\n  count: 3\nsteps:\n  - at: "08:00"\n    notices: { count: 4, over: 1h }\n';
    expect(lineOf(source, ['instances', 'count'])).toBe(3);
    expect(lineOf(source, ['steps', 0, 'notices', 'over'])).toBe(6);
  });

  it('accepts every scenario that comes with dokubox', () => {
    const dir = projectPath('scenarios');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) expect(problemsOf(readFileSync(join(dir, file), 'utf8')), file).toEqual([]);
  });
});
