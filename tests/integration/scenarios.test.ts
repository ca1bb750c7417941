/**
 * The scenarios that run in CI, played headless through the runner's API
 * (simulator/scenario/): each holds every invariant and reports the counts
 * its script makes. The deliberately broken one (the case system forgets its
 * reports) fails through the CLI with exit code 1, naming the pickups.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { projectPath, PROJECT_ROOT } from '../../src/project-root.js';
import { loadScenario } from '../../simulator/scenario/format.js';
import { formatReport, type ScenarioReport } from '../../simulator/scenario/report.js';
import { runScenario } from '../../simulator/scenario/runner.js';

async function play(name: string): Promise<ScenarioReport> {
  const file = `scenarios/${name}.yaml`;
  const { report, ok } = await runScenario(loadScenario(projectPath(file)), { file });
  // The whole report in the failure message: it names the broken invariants and the pickups.
  expect(report.violations, formatReport(report)).toEqual([]);
  expect(ok).toBe(true);
  return report;
}

const finalStates = (r: ScenarioReport): number => (r.pickups.byState.collected ?? 0) + (r.pickups.byState.returned ?? 0) + (r.pickups.byState.cancelled ?? 0);

describe('scenarios played headless', () => {
  it('a small day: every notice becomes a pickup that ends and is reported, a jammed door included', { timeout: 120_000 }, async () => {
    const report = await play('small-day');
    expect(report.notices).toMatchObject({ sent: 24, created: 24 });
    expect(report.pickups.total).toBe(24);
    expect(finalStates(report)).toBe(24);
    expect(report.handovers).toBeGreaterThanOrEqual(15);
    expect(report.faults.switched.map((f) => [f.kind, f.on])).toEqual([
      ['jammed-lock', true],
      ['jammed-lock', false],
    ]);
    // A door that jams while staff load keeps that pickup from its SMS; every other one gets it once.
    expect(report.sms.inbox.ready).toBeGreaterThanOrEqual(23);
    expect(report.latencies.codeToDoorOpen.count).toBe(report.handovers);
  });

  it('box full: six of ten wait and are served first-in first-out as compartments free up', { timeout: 120_000 }, async () => {
    const report = await play('box-full');
    expect(report.waiting.pickups).toBe(6);
    expect(report.waiting.longestList).toBeGreaterThanOrEqual(1);
    expect(report.reservations).toBe(10);
    expect(report.pickups.byState).toEqual({ collected: 10 });
  });

  it('the case system down for an hour: every report arrives afterwards, complete and in order', { timeout: 120_000 }, async () => {
    const report = await play('case-system-down');
    expect(report.faults.switched.map((f) => [f.kind, f.on])).toEqual([
      ['callback-down', true],
      ['callback-down', false],
    ]);
    expect(report.pickups.total).toBe(16);
    expect(finalStates(report)).toBe(16);
  });

  it('three instances, one killed every minute: nothing lost, nothing twice', { timeout: 180_000 }, async () => {
    const report = await play('three-instances');
    expect(report.instances).toBe(3);
    expect(report.kills).toBeGreaterThanOrEqual(3);
    expect(report.pickups.total).toBe(12);
    expect(finalStates(report)).toBe(12);
  });

  it('the instance driving the box killed while a door is open: the next one finishes the loading, door closed before or after the restart', { timeout: 180_000 }, async () => {
    const report = await play('killed-at-open-door');
    expect(report.kills).toBeGreaterThanOrEqual(2);
    expect(report.pickups.byState).toEqual({ collected: 10 });
  });

  it('a scenario whose case system forgets reports fails with exit code 1 and names the pickups', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/scenario/cli.ts', 'scenarios/broken-forgotten-reports.yaml', '--quiet'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, out).toBe(1);
    expect(out).toContain('BROKEN every pickup reported to the case system, complete and in order');
    const named = [...out.matchAll(/report-incomplete pickup ([0-9a-f-]{36}): the case system never got reserved \(seq 1\)/g)].map((m) => m[1]);
    expect(new Set(named).size).toBe(2);
    expect(out).toMatch(/ok {5}no notice lost/);
  });
});
