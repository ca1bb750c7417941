/**
 * `npm run scenario -- <file> [--json report.json] [--logs dir] [--quiet]`:
 * plays a YAML scenario headless and prints its report. Exit code 0 when
 * every invariant held, 1 when one broke (the report names the pickups), 2
 * when the scenario could not be played (a bad file, a part that did not start).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadScenario, ScenarioError } from './format.js';
import { formatReport } from './report.js';
import { runScenario } from './runner.js';

const USAGE = 'usage: npm run scenario -- <scenario.yaml> [--json report.json] [--logs dir] [--quiet]';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { json: { type: 'string' }, logs: { type: 'string' }, quiet: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\nThe scenarios that come with dokubox are in scenarios/ (docs/simulator.md, "Scenarios").\n`);
    return values.help === true ? 0 : 2;
  }
  const file = positionals[0] as string;
  try {
    const scenario = loadScenario(file);
    const progress = values.quiet === true ? undefined : (line: string): void => void process.stderr.write(`[scenario] ${line}\n`);
    const { report, ok } = await runScenario(scenario, { file, ...(progress === undefined ? {} : { progress }), ...(values.logs === undefined ? {} : { logDir: values.logs }) });
    process.stdout.write(formatReport(report));
    if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
    return ok ? 0 : 1;
  } catch (error) {
    const message = error instanceof ScenarioError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`the scenario could not be played: ${message}\n`);
    return 2;
  }
}

// Ctrl-C or a supervisor's SIGTERM: exit so that the redis-server and the instances are stopped with this process.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
process.exitCode = await main();
