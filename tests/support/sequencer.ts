/**
 * The order test files start in. vitest's own order (its BaseSequencer) puts
 * one project's files before the other's and, on a clean clone without its
 * results cache, the larger files first. Here a browser file (Chromium keeps
 * a core busy) runs next to a node file (which mostly waits on sockets and
 * processes), and the files known to take longest start first, so that no
 * long file starts last and runs alone at the end.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Files that take a minute or more on two cores (their own timeouts say so): started first. */
const LONG = [/scenarios\.test\.ts$/, /multi-instance-reports\.test\.ts$/, /kiosk-screens\.test\.ts$/, /console\.test\.ts$/, /kiosk-limits\.test\.ts$/, /kiosk-pickup\.test\.ts$/, /start\.test\.ts$/];

function rank(spec: TestSpecification): number {
  const index = LONG.findIndex((pattern) => pattern.test(spec.moduleId));
  return index < 0 ? LONG.length : index;
}

export default class InterleavedSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // Array.prototype.sort is stable: within a rank, vitest's order (failed first, then longest by its cache) stays.
    const ordered = (await super.sort(files)).map((spec, i) => ({ spec, i })).sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i).map(({ spec }) => spec);
    const browser = ordered.filter((spec) => spec.project.name === 'browser');
    const other = ordered.filter((spec) => spec.project.name !== 'browser');
    const out: TestSpecification[] = [];
    while (browser.length > 0 || other.length > 0) {
      const next = other.shift();
      if (next !== undefined) out.push(next);
      const page = browser.shift();
      if (page !== undefined) out.push(page);
    }
    return out;
  }
}
