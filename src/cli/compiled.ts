/**
 * Where the compiled entry point lives and whether dist/ holds the current
 * sources, for the tests and the benchmark that start the service as a
 * process (the service itself never needs this).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../project-root.js';

export const COMPILED_ENTRY = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'start.js');

/** Build info of `npm run typecheck` (everything) and `npm run build` (production code). */
const BUILD_INFO = ['all.tsbuildinfo', 'build.tsbuildinfo'].map((name) => join(PROJECT_ROOT, 'dist', name));

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Whether dist/ holds the production code as it is now: by the rule `tsc -b`
 * itself uses (every successful run, even one that had nothing to emit,
 * renews its build info).
 */
export function compiledIsCurrent(): boolean {
  if (!existsSync(COMPILED_ENTRY)) return false;
  const built = Math.max(0, ...BUILD_INFO.filter((file) => existsSync(file)).map((file) => statSync(file).mtimeMs));
  const sources = Math.max(
    newestSource(join(PROJECT_ROOT, 'src')),
    newestSource(join(PROJECT_ROOT, 'adapters')),
    ...['tsconfig.json', 'tsconfig.build.json'].map((file) => statSync(join(PROJECT_ROOT, file)).mtimeMs),
  );
  return built >= sources;
}
